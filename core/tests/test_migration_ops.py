"""core.migration_ops: constraints built without blocking writes on PostgreSQL (and the
plain way elsewhere), safe to run again after a failure half-way; and the constraints
the idempotency migrations build are in place, valid, after `migrate`."""

from importlib import import_module

import pytest
from django.db import IntegrityError, NotSupportedError, connection, migrations, models, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ModelState, ProjectState

from core.migration_ops import (
    AddCheckConstraintNotValid,
    AddFieldIndexedLater,
    AddUniqueConstraintConcurrently,
)

# The scratch table is made and dropped outside any transaction (CONCURRENTLY needs that).
SCRATCH = pytest.mark.django_db(transaction=True, serialized_rollback=True)

UNIQUE = models.UniqueConstraint(fields=("owner", "key"), name="core_scratch_owner_key")
CHECK = models.CheckConstraint(condition=models.Q(amount__gte=0), name="core_scratch_amount")


@pytest.fixture
def scratch():
    """A throwaway table, its migration state, and a way to run an operation on it."""
    state = ProjectState()
    state.add_model(
        ModelState(
            "scratch",
            "Scratch",
            [
                ("id", models.BigAutoField(primary_key=True)),
                ("owner", models.IntegerField()),
                ("key", models.CharField(max_length=20, null=True)),
                ("amount", models.IntegerField(default=0)),
            ],
            options={"db_table": "core_test_scratch"},
        )
    )
    model = state.apps.get_model("scratch", "Scratch")
    with connection.schema_editor() as editor:
        editor.create_model(model)

    def run(operation, *, backwards=False):
        after = state.clone()
        operation.state_forwards("scratch", after)
        with connection.schema_editor(atomic=False) as editor:
            if backwards:
                operation.database_backwards("scratch", editor, after, state)
            else:
                operation.database_forwards("scratch", editor, state, after)

    def insert(*rows):
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO core_test_scratch (owner, key, amount) VALUES (%s, %s, %s)", rows
            )

    try:
        yield run, insert
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(model)


def _constraints():
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, "core_test_scratch")


def _pg_state(name):
    """(index valid, constraint validated) on PostgreSQL; None where there is none."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)),"
            " (SELECT convalidated FROM pg_constraint WHERE conname = %s)",
            [f'"{name}"', name],
        )
        return cursor.fetchone()


@SCRATCH
def test_a_unique_constraint_is_added_and_removed(scratch):
    run, insert = scratch
    insert((1, "a", 0), (2, "a", 0))
    operation = AddUniqueConstraintConcurrently("scratch", UNIQUE)
    run(operation)
    found = _constraints()[UNIQUE.name]
    assert (found["unique"], found["columns"]) == (True, ["owner", "key"])
    with pytest.raises(IntegrityError), transaction.atomic():
        insert((1, "a", 0))
    run(operation, backwards=True)
    assert UNIQUE.name not in _constraints()


@SCRATCH
def test_a_check_constraint_is_added_and_removed(scratch):
    run, insert = scratch
    operation = AddCheckConstraintNotValid("scratch", CHECK)
    run(operation)
    assert _constraints()[CHECK.name]["check"]
    with pytest.raises(IntegrityError), transaction.atomic():
        insert((1, "a", -1))
    run(operation, backwards=True)
    assert CHECK.name not in _constraints()


@pytest.mark.postgres
@SCRATCH
def test_a_unique_build_that_failed_is_built_again_on_the_next_run(scratch):
    run, insert = scratch
    insert((1, "a", 0), (1, "a", 0))
    operation = AddUniqueConstraintConcurrently("scratch", UNIQUE)
    with pytest.raises(IntegrityError):
        run(operation)
    assert _pg_state(UNIQUE.name) == (False, None)  # left behind: invalid, no constraint

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM core_test_scratch WHERE id = (SELECT max(id) FROM core_test_scratch)"
        )
    run(operation)
    assert _pg_state(UNIQUE.name) == (True, True)
    run(operation)  # and once more, as a re-run of its migration would: nothing to do
    assert _pg_state(UNIQUE.name) == (True, True)


@pytest.mark.postgres
@SCRATCH
def test_a_check_that_old_rows_fail_is_validated_on_the_next_run(scratch):
    run, insert = scratch
    insert((1, "a", -5))
    operation = AddCheckConstraintNotValid("scratch", CHECK)
    with pytest.raises(IntegrityError):
        run(operation)
    assert _pg_state(CHECK.name)[1] is False  # in force for new rows, old ones unchecked

    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_test_scratch SET amount = 0")
    run(operation)
    assert _pg_state(CHECK.name)[1] is True


@pytest.mark.postgres
@SCRATCH
def test_inside_a_transaction_it_says_the_migration_must_not_be_atomic(scratch):
    run, _insert = scratch
    with pytest.raises(NotSupportedError, match="atomic = False"), transaction.atomic():
        run(AddUniqueConstraintConcurrently("scratch", UNIQUE))


# --- What the idempotency migrations built -----------------------------------------------

BUILT = {
    "sales_transaction": {"sales_tx_one_per_user_key": ["created_by_id", "idempotency_key"]},
    "sales_payment": {"sales_payment_one_per_user_key": ["received_by_id", "idempotency_key"]},
    "stock_distribution": {
        "stock_distribution_one_per_user_key": ["created_by_id", "idempotency_key"]
    },
}


@pytest.mark.django_db
def test_the_migrations_built_every_idempotency_constraint_and_index():
    with connection.cursor() as cursor:
        found = {
            table: connection.introspection.get_constraints(cursor, table)
            for table in (*BUILT, "sales_historicalpayment")
        }
    for table, constraints in BUILT.items():
        for name, columns in constraints.items():
            assert (found[table][name]["unique"], found[table][name]["columns"]) == (
                True,
                columns,
            )
    assert found["sales_payment"]["sales_payment_reversal_complete"]["check"]
    # the table-wide unique index on a sale's key is gone: keys are per user
    assert not [
        c for c in found["sales_transaction"].values() if c["columns"] == ["idempotency_key"]
    ]
    for table in ("sales_payment", "sales_historicalpayment"):
        assert any(
            c["index"] and c["columns"] == ["reversed_by_id"] for c in found[table].values()
        ), table


@pytest.mark.postgres
@pytest.mark.django_db
def test_on_postgresql_they_are_valid():
    names = [name for constraints in BUILT.values() for name in constraints]
    for name in names:
        assert _pg_state(name) == (True, True), name
    assert _pg_state("sales_payment_reversal_complete")[1] is True


QUICK = {
    "sales": "0008_payment_reversal_and_idempotency",
    "stock": "0008_distribution_idempotency",
}


@pytest.mark.parametrize("app", QUICK)
def test_the_transactional_migrations_read_no_whole_table(app):
    """What runs in one transaction, under the locks its ALTER TABLEs take, rewrites no
    rows and builds no index or constraint; that is left to the non-atomic 0009."""
    migration = import_module(f"{app}.migrations.{QUICK[app]}").Migration
    for operation in migration.operations:
        assert not isinstance(operation, migrations.AddConstraint), operation
        if isinstance(operation, migrations.RunPython):
            assert operation.code.__name__ == "grant_reverse", operation
        if isinstance(operation, migrations.AddField) and operation.field.db_index:
            assert isinstance(operation, AddFieldIndexedLater), operation
    later = [
        m
        for m in MigrationLoader(None).disk_migrations.values()
        if m.app_label == app and (app, QUICK[app]) in m.dependencies
    ]
    assert later
    assert not any(m.atomic for m in later)
