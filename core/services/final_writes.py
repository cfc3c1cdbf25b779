"""A posting's last round trip: its number, the audit chain head and the rows that carry
the number, written together just before the commit.

Every numbered posting takes two rows that all postings share: the series' counter
(gapless numbers) and the audit chain head (a chain that never forks). Each is held from
the moment it is taken until the commit, so every other posting waits that long. Here
that window is as short as PostgreSQL allows with the hash computed outside the database:

1. before: everything else is written, and the rows that carry the number (the document,
   its history row, its ledger and holding entries, its e-mail) are built and their
   INSERTs compiled with NUMBER standing for the number;
2. one statement takes the counter, then the chain head (counter before head, the lock
   order every posting keeps);
3. the number goes into the compiled INSERTs and the audit entry, which is hashed;
4. one round trip writes them all, the audit entry and the new chain head;
5. the caller's transaction commits.

On SQLite (one writer at a time) the same rows are written one statement after another.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, models
from django.db.models.sql import InsertQuery

from core.history import historical_model
from core.models import AuditChainHead, Depot, DocumentCounter, User
from core.services.audit import audit_entry, audit_insert_sql, audit_record, data_stored
from core.services.numbering import document_number_next, number_text, number_year

# What the number is compiled as until it is taken: no document number looks like it.
NUMBER = "\x1f#number#\x1f"

TAKE_SQL = (
    "WITH counter AS (UPDATE {counter} SET last_value = last_value + 1 "
    "WHERE series = %s AND year = %s RETURNING last_value) "
    "SELECT counter.last_value, head.last_seq, head.last_hash FROM counter "
    # LATERAL on the counter's row: the head is locked after the counter, never before.
    "LEFT JOIN LATERAL (SELECT last_seq, last_hash FROM {head} "
    "WHERE id = 1 AND counter.last_value IS NOT NULL FOR UPDATE) head ON true"
)


def _numbered(value: Any, number: str) -> Any:
    if value == NUMBER:
        return number
    if isinstance(value, list):  # PostgreSQL's bulk INSERT sends columns as arrays
        return [number if item == NUMBER else item for item in value]
    return value


def _no_stand_in_left(values: Any) -> None:
    """Refuse to write a stand-in the number did not replace (inside a longer text, or
    in nested data): a row would be stored with it."""
    if isinstance(values, str):
        if NUMBER in values:
            raise RuntimeError("a row would be written with the number's stand-in in it")
    elif isinstance(values, dict):
        _no_stand_in_left(list(values.values()))
    elif isinstance(values, (list, tuple)):
        for value in values:
            _no_stand_in_left(value)


def _data_numbered(data: dict[str, Any], number: str) -> dict[str, Any]:
    """The audit entry's data with the number in place of the stand-in (top-level values)."""
    numbered = {key: _numbered(value, number) for key, value in data.items()}
    _no_stand_in_left(numbered)
    return numbered


# (model, with pk, rows, database) -> the compiled INSERT's text and how its parameters
# are laid out: "rows" (VALUES (..), (..)) or "columns" (PostgreSQL's UNNEST of arrays);
# None: compile every time (a value the layouts did not reproduce).
_COMPILED: dict[tuple[type[models.Model], bool, int, str], tuple[str, str] | None] = {}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b) or (type(a) is type(b) and repr(a) == repr(b))  # Jsonb, say


def _laid_out(layout: str, rows: list[list[Any]]) -> list[Any]:
    if layout == "rows":
        return [value for row in rows for value in row]
    return [list(column) for column in zip(*rows, strict=True)]


def insert_statement(
    model: type[models.Model], objs: Sequence[models.Model]
) -> tuple[str, list[Any]]:
    """The INSERT that bulk_create would send for `objs` (all with their pk set, or
    none), without RETURNING: compiled by Django's own insert compiler the first time
    for a model and a number of rows, then its text reused with the values prepared as
    the compiler prepares them (pre_save, get_db_prep_save). The compiler costs about
    0.5 ms a statement; a sale writes six."""
    opts = model._meta
    with_pk = all(obj.pk is not None for obj in objs)
    fields = [
        f
        for f in opts.concrete_fields
        if not getattr(f, "generated", False) and (with_pk or not f.primary_key)
    ]
    key = (model, with_pk, len(objs), connection.vendor)
    seen = key in _COMPILED
    compiled = _COMPILED.get(key)
    if compiled is not None:
        sql, layout = compiled
        values = [[f.pre_save(obj, True) for f in fields] for obj in objs]
        if not any(hasattr(v, "resolve_expression") for row in values for v in row):
            rows = [
                [f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)]
                for row in values
            ]
            return sql, _laid_out(layout, rows)
    query = InsertQuery(model)
    query.insert_values(fields, list(objs), raw=False)
    ((sql, params),) = query.get_compiler(connection=connection).as_sql()
    params = list(params)
    if not seen:  # the first time: which layout gives the compiler's own values
        rows = [
            [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields]
            for obj in objs
        ]
        _COMPILED[key] = next(
            (
                (sql, layout)
                for layout in ("rows", "columns")
                if _same(_laid_out(layout, rows), params)
            ),
            None,
        )
    return sql, params


def one_round_trip() -> bool:
    """Several statements can go in one execute: PostgreSQL with client-side binding
    (Django's default with psycopg). With server-side binding, and on SQLite, they go
    one by one."""
    options = connection.settings_dict.get("OPTIONS", {})
    return connection.vendor == "postgresql" and not options.get("server_side_binding")


def execute_together(statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
    """Run statements that return nothing: in one round trip where one_round_trip()."""
    with connection.cursor() as cursor:
        if one_round_trip():
            cursor.execute(
                ";\n".join(sql for sql, _ in statements),
                [value for _, values in statements for value in values],
            )
        else:
            for sql, values in statements:
                cursor.execute(sql, values)


def history_rows(
    model: type[models.Model],
    objs: Sequence[models.Model],
    *,
    user: User,
    date: datetime,
    kind: str = "+",
) -> list[models.Model]:
    """The history rows simple-history's bulk_history_create writes for `objs`: '+' for
    new ones, '~' for changed ones."""
    history = historical_model(model)
    rows = []
    for obj in objs:
        row = history(
            history_date=date,
            history_user=user,
            history_change_reason="",
            history_type=kind,
            **{f.attname: getattr(obj, f.attname) for f in history.tracked_fields},
        )
        rows.append(row)
    return rows


@dataclass
class AuditSpec:
    actor: User
    action: str
    obj: models.Model
    depot: Depot | None
    data: dict[str, Any]


@dataclass
class FinalWrites:
    """The rows of one posting that carry its number, and its audit entry."""

    series: str
    at: datetime
    statements: list[tuple[str, list[Any]]] = field(default_factory=list)
    _models: list[tuple[type[models.Model], list[models.Model]]] = field(default_factory=list)

    def add(self, model: type[models.Model], objs: Sequence[models.Model]) -> None:
        """Rows to insert, built with NUMBER where the number goes."""
        objs = list(objs)
        if objs:
            self._models.append((model, objs))
            self.statements.append(insert_statement(model, objs))

    def write(self, audit: AuditSpec, number_set: Callable[[str], None]) -> str:
        """Take the number and the chain head, write the rows and the audit entry; the
        number. `number_set(number)` puts it on the caller's objects."""
        if not connection.in_atomic_block:
            raise RuntimeError("FinalWrites.write must run inside the posting transaction")
        data = data_stored(audit.data)
        if not one_round_trip():
            number = document_number_next(series=self.series, at=self.at)
            for sql, values in self.statements:
                numbered = [_numbered(v, number) for v in values]
                _no_stand_in_left(numbered)
                with connection.cursor() as cursor:
                    cursor.execute(sql, numbered)
            number_set(number)
            audit_record(
                actor=audit.actor,
                action=audit.action,
                obj=audit.obj,
                depot=audit.depot,
                data=_data_numbered(data, number),
                at=self.at,
            )
            self._stored()
            return number
        value, seq, prev = self._take()
        number = number_text(self.series, number_year(self.at), value)
        number_set(number)
        entry = audit_entry(
            actor=audit.actor,
            action=audit.action,
            obj=audit.obj,
            depot=audit.depot,
            data=_data_numbered(data, number),
            created_at=self.at,
            seq=seq + 1,
            prev_hash=prev,
        )
        statements = [
            (sql, [_numbered(v, number) for v in values])
            for sql, values in [*self.statements, audit_insert_sql(entry)]
        ]
        _no_stand_in_left([values for _, values in statements])
        execute_together(statements)
        self._stored()
        return number

    def _take(self) -> tuple[int, int, str]:
        """The counter's next value and the chain head (seq, hash), both locked."""
        year = number_year(self.at)
        quote = connection.ops.quote_name
        sql = TAKE_SQL.format(
            counter=quote(DocumentCounter._meta.db_table),
            head=quote(AuditChainHead._meta.db_table),
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.series, year])
            row = cursor.fetchone()
            if row is None:  # the series' first number this year
                DocumentCounter.objects.bulk_create(
                    [DocumentCounter(series=self.series, year=year)], ignore_conflicts=True
                )
                cursor.execute(sql, [self.series, year])
                row = cursor.fetchone()
            value, seq, prev = row
            if seq is None:  # the first audit entry ever
                AuditChainHead.objects.bulk_create([AuditChainHead(pk=1)], ignore_conflicts=True)
                seq, prev = (
                    AuditChainHead.objects.select_for_update()
                    .values_list("last_seq", "last_hash")
                    .get(pk=1)
                )
        return value, seq, prev

    def _stored(self) -> None:
        for _, objs in self._models:
            for obj in objs:
                if obj.pk is not None:  # rows inserted without RETURNING keep no pk
                    obj._state.adding = False
                    obj._state.db = connection.alias
