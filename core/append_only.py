"""Append-only tables: the audit log, the stock ledger, rate versions, posted document
lines and every history table.

On PostgreSQL, triggers created by migrations refuse UPDATE, DELETE and TRUNCATE with an
error that names the table; nothing in the application can turn them off. On SQLite (the
laptop database) the ORM refuses the same through the model and queryset classes below.
"""

from django.db import models
from simple_history.manager import HistoricalQuerySet, HistoryManager

FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION hsh_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation',
              HINT = 'Post a reversing entry instead of changing or removing a row.';
END
$$ LANGUAGE plpgsql;
"""


class AppendOnlyError(Exception):
    """Raised by the ORM guards; the database triggers raise their own error."""


def _refuse(model, operation):
    raise AppendOnlyError(
        f"table {model._meta.db_table} is append-only: {operation} is not allowed"
    )


class AppendOnlyQuerySetMixin:
    def update(self, **kwargs):
        _refuse(self.model, "UPDATE")

    def delete(self):
        _refuse(self.model, "DELETE")

    def bulk_update(self, objs, fields, batch_size=None):
        _refuse(self.model, "UPDATE")


class AppendOnlyQuerySet(AppendOnlyQuerySetMixin, models.QuerySet):
    pass


class AppendOnlyHistoricalQuerySet(AppendOnlyQuerySetMixin, HistoricalQuerySet):
    pass


AppendOnlyManager = models.Manager.from_queryset(AppendOnlyQuerySet)


class AppendOnlyModel(models.Model):
    """A row is written once and never changed or removed."""

    objects = AppendOnlyManager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            _refuse(type(self), "UPDATE")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _refuse(type(self), "DELETE")


class AppendOnlyHistory(AppendOnlyModel):
    """Base of every simple-history model (HistoricalRecords(bases=[...]))."""

    objects = models.Manager.from_queryset(AppendOnlyHistoricalQuerySet)()

    class Meta:
        abstract = True


class AppendOnlyHistoryManager(HistoryManager):
    """`instance.history` with the same guard."""

    def get_super_queryset(self):
        return AppendOnlyHistoricalQuerySet(model=self.model, using=self._db)


def trigger_sql(table: str) -> str:
    return f"""
DROP TRIGGER IF EXISTS {table}_append_only ON {table};
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION hsh_refuse_change();
DROP TRIGGER IF EXISTS {table}_append_only_truncate ON {table};
CREATE TRIGGER {table}_append_only_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION hsh_refuse_change();
"""


def drop_trigger_sql(table: str) -> str:
    return f"""
DROP TRIGGER IF EXISTS {table}_append_only ON {table};
DROP TRIGGER IF EXISTS {table}_append_only_truncate ON {table};
"""


def protect(*tables):
    """Migration operation: append-only triggers on `tables` (PostgreSQL only)."""
    from django.db import migrations

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        # params=None: the SQL is run as written (its % signs are not placeholders).
        schema_editor.execute(FUNCTION_SQL, params=None)
        for table in tables:
            schema_editor.execute(trigger_sql(table), params=None)

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in tables:
            schema_editor.execute(drop_trigger_sql(table), params=None)

    return migrations.RunPython(forwards, backwards)
