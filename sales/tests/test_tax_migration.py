"""sales 0011_tax: existing sales get tax 0 and net = total, without rewriting the sales
table in one statement (see the migration's docstring)."""

from decimal import Decimal
from importlib import import_module
from types import SimpleNamespace

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from sales.models import Transaction
from sales.services import sale_post

migration = import_module("sales.migrations.0011_tax")


def _sell(customer, rep, product, quantity):
    return sale_post(
        customer=customer,
        sales_rep=rep,
        actor=rep,
        lines=[{"product": product, "quantity": quantity}],
    )


def _legacy(*sales):
    """The sales as they are between the columns' addition and the backfill."""
    Transaction.objects.filter(pk__in=[s.pk for s in sales]).update(net_amount=None)


@pytest.mark.django_db
def test_the_backfill_writes_net_in_batches_and_resumes(cash_customer, loaded_vehicle, products):
    sales = [_sell(cash_customer, loaded_vehicle, products["9KG"], 1) for _ in range(5)]
    _legacy(*sales)
    editor = SimpleNamespace(connection=connection)
    assert migration.net_backfill(None, editor, batch=2) == 5
    for sale in sales:
        sale.refresh_from_db()
        assert (sale.net_amount, sale.tax_amount, sale.tax_rate) == (
            sale.total_amount,
            Decimal("0"),
            Decimal("0"),
        )
    assert migration.net_backfill(None, editor, batch=2) == 0  # nothing left: a no-op
    _legacy(sales[3])  # stopped half-way: a second run writes only what is left
    assert migration.net_backfill(None, editor) == 1


@pytest.mark.django_db
def test_the_columns_are_as_the_migration_says():
    """tax_rate and tax_amount NOT NULL with a database default of 0 (no rewrite on
    PostgreSQL); net_amount nullable."""
    with connection.cursor() as cursor:
        columns = {
            column.name: column
            for column in connection.introspection.get_table_description(
                cursor, "sales_transaction"
            )
        }
    assert columns["net_amount"].null_ok
    assert not columns["tax_rate"].null_ok
    assert not columns["tax_amount"].null_ok
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT column_name, column_default FROM information_schema.columns "
                "WHERE table_name = 'sales_transaction' "
                "AND column_name IN ('tax_rate', 'tax_amount')"
            )
            defaults = dict(cursor.fetchall())
        assert {name: default.split("::")[0] for name, default in defaults.items()} == {
            "tax_rate": "0",
            "tax_amount": "0",
        }


@pytest.mark.django_db
def test_tax_rates_are_append_only_in_the_database(head_office):
    from django.db import DatabaseError, transaction

    from sales.services import tax_rate_set

    tax_rate_set(rate="10", actor=head_office)
    if connection.vendor != "postgresql":
        pytest.skip("the triggers are PostgreSQL's (the ORM guard is tested elsewhere)")
    for sql in ("UPDATE sales_taxrate SET rate = 11", "DELETE FROM sales_taxrate"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_sale_posted_before_the_migration_has_tax_0_and_net_its_total(
    cash_customer, loaded_vehicle, products
):
    sale = _sell(cash_customer, loaded_vehicle, products["12.7KG"], 2)
    executor = MigrationExecutor(connection)
    executor.migrate([("sales", "0010_created_at_set_by_services")])
    with connection.cursor() as cursor:
        cursor.execute("SELECT total_amount FROM sales_transaction WHERE id = %s", [sale.pk])
        assert Decimal(cursor.fetchone()[0]) == Decimal("6000.00")
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    migrated = Transaction.objects.get(pk=sale.pk)
    assert (migrated.net_amount, migrated.tax_rate, migrated.tax_amount) == (
        Decimal("6000.00"),
        Decimal("0"),
        Decimal("0"),
    )
    assert migrated.total_amount == Decimal("6000.00")
    # its history row was written before the migration: kept as it was (no net)
    assert [h.net_amount for h in migrated.history.all()] == [None]
