"""Queries compiled to SQL once per process.

Django compiles a queryset to SQL on every evaluation. For a query with joins or
subqueries (an invoice's sale with its customer, representative and meter sale; a
customer's balance at a moment, four sums) that is milliseconds of Python for a
statement PostgreSQL answers in a fraction of one: most of a thermal receipt's time
(BENCHMARKS.md, "Document rendering"). Its SQL does not change from one document to the
next, only its parameters do. A CompiledQuery is built with the ORM, compiled once with
a sentinel for each parameter, then run with the real values in their places."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from django.db import connections
from django.db.models import QuerySet


def _sentinels(kinds: dict[str, type]) -> dict[str, Any]:
    """A value per parameter that no real parameter takes and no other sentinel equals."""
    values: dict[str, Any] = {}
    for index, (name, kind) in enumerate(sorted(kinds.items())):
        if kind is int:
            values[name] = -7_319_000_000_000_000 - index
        elif kind is datetime:
            values[name] = datetime(1901, 1, 1, tzinfo=UTC) + timedelta(microseconds=index + 1)
        elif kind is str:
            values[name] = f"\x00compiled-query-parameter-{index}\x00"
        else:
            raise TypeError(f"a compiled query's parameter is int, datetime or str, not {kind}")
    return values


class CompiledQuery:
    """A values/values_list query compiled once (at its first run), then run with other
    values of its parameters. `build(**parameters)` returns the queryset; `kinds` names
    each parameter's type (int, datetime or str). Each parameter must reach the SQL as a
    bound parameter (a filter's value), not inlined in its text: checked at compile."""

    def __init__(
        self,
        build: Callable[..., QuerySet[Any, Any]],
        using: str = "default",
        **kinds: type,
    ) -> None:
        self.build = build
        self.using = using
        self.kinds = kinds
        self.sentinels = _sentinels(kinds)

    def _adapt(self, name: str, value: Any) -> Any:
        """`value` as the ORM hands it to the database (SQLite takes a datetime as text)."""
        if self.kinds[name] is datetime and isinstance(value, datetime):
            return connections[self.using].ops.adapt_datetimefield_value(value)
        return value

    @cached_property
    def compiled(self) -> tuple[str, tuple[Any, ...], Any, list[Any]]:
        """The SQL, its parameters with the sentinels in them, the compiler and the
        converters of its columns (the database's values to Python's, as the ORM
        applies them: SQLite's decimals and datetimes, JSON)."""
        compiler = self.build(**self.sentinels).query.get_compiler(using=self.using)
        sql, params = compiler.as_sql()
        template = tuple(params)
        for name, sentinel in self.sentinels.items():
            if self._adapt(name, sentinel) not in template:
                raise ValueError(f"the query does not take {name} as a bound parameter")
        columns = [selected[0] for selected in compiler.select[: compiler.col_count]]
        return sql, template, compiler, compiler.get_converters(columns)

    def rows(self, **values: Any) -> list[tuple[Any, ...]]:
        """The query's rows for these values of its parameters."""
        sql, template, compiler, converters = self.compiled
        by_sentinel = {
            self._adapt(name, self.sentinels[name]): self._adapt(name, value)
            for name, value in values.items()
        }
        if len(by_sentinel) != len(self.sentinels):
            raise TypeError(f"the query takes {sorted(self.sentinels)}, given {sorted(values)}")
        params = [by_sentinel.get(p, p) if _hashable(p) else p for p in template]
        with connections[self.using].cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if converters:
            return [tuple(row) for row in compiler.apply_converters(rows, converters)]
        return list(rows)


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
