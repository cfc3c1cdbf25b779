"""Invariant 5 for tax under real concurrency (PostgreSQL, threads): sales posted while
the tax rate changes each carry the rate in force at their own moment, and no change is
refused for repricing a sale that was still being posted (sales.services.tax_rate_lock)."""

import threading
from decimal import Decimal

import pytest
from django.db import OperationalError, connection, connections, transaction

from sales.models import TaxRate, Transaction
from sales.selectors import tax_rate_in_force
from sales.services import sale_post, tax_compute, tax_rate_set
from sales.services.tax import TAX_RATE_LOCK_KEY

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_sales_and_rate_changes_at_once_keep_the_rate_of_their_moment(
    concurrently, head_office, customer_factory, loaded_vehicle, products
):
    customers = [customer_factory("CASH") for _ in range(4)]
    tax_rate_set(rate="10", actor=head_office)

    def sell(customer):
        return lambda: sale_post(
            customer=customer,
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[{"product": products["12.7KG"], "quantity": 1}],
        )

    def change(rate):
        return lambda: tax_rate_set(rate=rate, actor=head_office)

    calls = [sell(customers[i % 4]) for i in range(12)]
    for position, rate in ((3, "11"), (7, "12"), (10, "13")):
        calls.insert(position, change(rate))
    outcomes = concurrently(calls)
    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    assert TaxRate.objects.count() == 4
    for sale in Transaction.objects.all():
        rate = tax_rate_in_force(at=sale.created_at)
        net, tax, total = tax_compute(
            subtotal=Decimal("3000.00"), rate=rate, prices_include_tax=False
        )
        assert (sale.tax_rate, sale.net_amount, sale.tax_amount, sale.total_amount) == (
            rate,
            net,
            tax,
            total,
        ), sale.number


def test_a_rate_change_waits_for_a_sale_being_posted(head_office):
    """While a sale holds the lock (shared), tax_rate_set waits; it goes on, with a later
    moment, once that sale's transaction ends."""
    held, release = threading.Event(), threading.Event()

    def sale_in_progress():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [TAX_RATE_LOCK_KEY])
                held.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=sale_in_progress)
    holder.start()
    assert held.wait(30)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL lock_timeout = '200ms'")
        with pytest.raises(OperationalError, match="lock timeout"):
            tax_rate_set(rate="10", actor=head_office)
    release.set()
    holder.join(30)
    assert tax_rate_set(rate="10", actor=head_office).rate == Decimal("10")
