"""Migration operations that a large live PostgreSQL database takes without blocking its
writes while they run.

A plain AddConstraint builds a unique index, or reads every row for a CHECK, while it
holds a lock that stops every INSERT and UPDATE on the table: minutes on a table of
millions of sales. These do the slow part first, under a lock that lets writes through,
and then take the strong lock only for a catalogue change:

- AddUniqueConstraintConcurrently: CREATE UNIQUE INDEX CONCURRENTLY, then ALTER TABLE
  ADD CONSTRAINT ... UNIQUE USING INDEX.
- AddCheckConstraintNotValid: ADD CONSTRAINT ... NOT VALID (new rows are checked from
  then on), then VALIDATE CONSTRAINT, which reads the old rows under a SHARE UPDATE
  EXCLUSIVE lock only.
- AddFieldIndexedLater and FieldIndexConcurrently: a field with its own index
  (db_index=True, e.g. a foreign key) added without the index, in the quick migration
  that adds the column; the index built later with CREATE INDEX CONCURRENTLY.

Each is safe to run again after a failure half-way (a CONCURRENTLY build cannot run in a
transaction, so the migration holding them has `atomic = False`): an index a failed
build left invalid is dropped and built again, and what exists already is kept.

On other databases (SQLite, for `make test` on a laptop) they do what the plain
operation does. The migration state is exactly that of AddConstraint, so
`makemigrations --check` sees no difference.
"""

import copy

from django.db import NotSupportedError, migrations, transaction
from django.db.migrations.operations.base import Operation
from django.db.models import CheckConstraint, UniqueConstraint


def _on_postgresql(schema_editor) -> bool:
    if schema_editor.connection.vendor != "postgresql":
        return False
    if schema_editor.connection.in_atomic_block:
        raise NotSupportedError(
            "This operation builds indexes CONCURRENTLY, which cannot run in a "
            "transaction: give its migration `atomic = False`."
        )
    return True


def _fallback(schema_editor, action, *args):
    """The plain schema change, in a transaction of its own (SQLite rebuilds the table)."""
    with transaction.atomic(using=schema_editor.connection.alias):
        action(*args)


def _fetch(schema_editor, sql, params):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _constraint_exists(schema_editor, table: str, name: str) -> bool:
    return (
        _fetch(
            schema_editor,
            "SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass(%s) AND conname = %s",
            [schema_editor.quote_name(table), name],
        )
        is not None
    )


def _index_build_concurrently(schema_editor, name: str, sql: str) -> None:
    """Run `sql` (a CREATE [UNIQUE] INDEX CONCURRENTLY IF NOT EXISTS of index `name`),
    first dropping what an earlier build that failed half-way left behind: an index
    marked invalid, which IF NOT EXISTS would otherwise take as done."""
    quoted = schema_editor.quote_name(name)
    valid = _fetch(
        schema_editor,
        "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)",
        [quoted],
    )
    if valid is not None and not valid[0]:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quoted}")
    schema_editor.execute(sql)


class _AddConstraintWithoutBlocking(migrations.AddConstraint):
    """AddConstraint whose PostgreSQL build (`_build`) lets writes through; elsewhere,
    and backwards, the plain operation."""

    atomic = False

    def _build(self, schema_editor, model, table: str, name: str) -> None:
        raise NotImplementedError

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if not _on_postgresql(schema_editor):
            _fallback(schema_editor, schema_editor.add_constraint, model, self.constraint)
            return
        self._build(schema_editor, model, model._meta.db_table, self.constraint.name)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if _on_postgresql(schema_editor):  # a catalogue change: drops its index too
            schema_editor.remove_constraint(model, self.constraint)
        else:
            _fallback(schema_editor, schema_editor.remove_constraint, model, self.constraint)


class AddUniqueConstraintConcurrently(_AddConstraintWithoutBlocking):
    """AddConstraint for a UniqueConstraint on plain fields, with its index built
    CONCURRENTLY on PostgreSQL (see the module's docstring)."""

    def __init__(self, model_name, constraint):
        plain = isinstance(constraint, UniqueConstraint) and not (
            constraint.condition
            or constraint.expressions
            or constraint.include
            or constraint.opclasses
            or constraint.deferrable
            or constraint.nulls_distinct is not None
        )
        if not plain:
            raise TypeError(f"{constraint.name}: only a UniqueConstraint on plain fields.")
        super().__init__(model_name, constraint)

    def describe(self):
        return f"{super().describe()} (index built concurrently)"

    def _build(self, schema_editor, model, table: str, name: str) -> None:
        if _constraint_exists(schema_editor, table, name):
            return
        quote = schema_editor.quote_name
        columns = ", ".join(
            quote(model._meta.get_field(field).column) for field in self.constraint.fields
        )
        _index_build_concurrently(
            schema_editor,
            name,
            f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {quote(name)} "
            f"ON {quote(table)} ({columns})",
        )
        schema_editor.execute(
            f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} "
            f"UNIQUE USING INDEX {quote(name)}"
        )


class AddCheckConstraintNotValid(_AddConstraintWithoutBlocking):
    """AddConstraint for a CheckConstraint, added NOT VALID and then validated on
    PostgreSQL (see the module's docstring)."""

    def __init__(self, model_name, constraint):
        if not isinstance(constraint, CheckConstraint):
            raise TypeError(f"{constraint.name}: only a CheckConstraint.")
        super().__init__(model_name, constraint)

    def describe(self):
        return f"{super().describe()} (not valid, then validated)"

    def _build(self, schema_editor, model, table: str, name: str) -> None:
        if not _constraint_exists(schema_editor, table, name):
            # create_sql is interpolated already: params=None, so no % is read as one
            sql = self.constraint.create_sql(model, schema_editor)
            schema_editor.execute(f"{sql} NOT VALID", params=None)
        quote = schema_editor.quote_name
        schema_editor.execute(f"ALTER TABLE {quote(table)} VALIDATE CONSTRAINT {quote(name)}")


class AddFieldIndexedLater(migrations.AddField):
    """AddField for a field with its own index (db_index=True): on PostgreSQL the column
    is added without the index, which a FieldIndexConcurrently in a later, non-atomic
    migration builds. The state, and other databases, are AddField's."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        to_model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, to_model):
            return
        field = copy.copy(to_model._meta.get_field(self.name))
        field.db_index = False
        schema_editor.add_field(from_state.apps.get_model(app_label, self.model_name), field)


class FieldIndexConcurrently(Operation):
    """Build, CONCURRENTLY, the index of a field that AddFieldIndexedLater added without
    it on PostgreSQL, under the name Django would have given it. Changes no state; does
    nothing elsewhere (AddField built the index there)."""

    atomic = False
    reduces_to_sql = True
    reversible = True

    def __init__(self, model_name, name):
        self.model_name = model_name
        self.name = name

    def deconstruct(self):
        return (self.__class__.__name__, [], {"model_name": self.model_name, "name": self.name})

    def describe(self):
        return f"Build the index of {self.model_name}.{self.name} (concurrently)"

    def state_forwards(self, app_label, state):
        pass

    def _index(self, app_label, schema_editor, state):
        model = state.apps.get_model(app_label, self.model_name)
        field = model._meta.get_field(self.name)
        table = model._meta.db_table
        return model, field, schema_editor._create_index_name(table, [field.column])

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model, field, name = self._index(app_label, schema_editor, to_state)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if not _on_postgresql(schema_editor):
            return
        quote = schema_editor.quote_name
        _index_build_concurrently(
            schema_editor,
            name,
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {quote(name)} "
            f"ON {quote(model._meta.db_table)} ({quote(field.column)})",
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model, _field, name = self._index(app_label, schema_editor, from_state)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if _on_postgresql(schema_editor):
            quoted = schema_editor.quote_name(name)
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quoted}")
