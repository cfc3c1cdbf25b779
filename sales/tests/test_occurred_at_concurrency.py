"""Offline capture under real concurrency (PostgreSQL, threads): meter readings synced at
once, in any order, still only rise (invariant 4); a tax change racing synced sales never
leaves a sale taxed other than at the rate in force when it happened (invariant 5)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from sales.models import MeterSale, TaxRate, Transaction
from sales.selectors import tax_rate_in_force
from sales.services import customer_create, rate_set, sale_post, tax_rate_set

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

D = Decimal


@pytest.fixture
def hotel(north, head_office, products):
    opened = timezone.now() - timedelta(days=10)
    tax_rate_set(rate="5", actor=head_office, at=opened)
    customer = customer_create(
        code="H1", name="Hotel", depot=north, payment_type="CREDIT", actor=head_office, at=opened
    )
    for code in ("BULK", "12.7KG"):
        rate_set(
            customer=customer, product=products[code], rate="250", actor=head_office, at=opened
        )
    return customer


def test_meter_readings_synced_at_once_in_any_order_only_rise(concurrently, hotel, sales_rep):
    now = timezone.now()
    # Read on the handheld an hour apart, rising; sent by threads released together.
    readings = [(D(100 + 10 * i), now - timedelta(hours=9 - i)) for i in range(8)]

    def read(value, happened):
        return lambda: sale_post(
            customer=hotel,
            sales_rep=sales_rep,
            actor=sales_rep,
            meter_reading=value,
            occurred_at=happened,
        )

    outcomes = concurrently([read(v, h) for v, h in reversed(readings)])
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    for outcome in refused:
        assert isinstance(outcome, ValidationError), repr(outcome)
        assert outcome.error_dict["meter_reading"][0].code == "meter_reading_not_higher"
    posted = list(MeterSale.objects.order_by("transaction_id"))
    assert len(posted) == len(outcomes) - len(refused) >= 1
    previous = D("0")
    for meter in posted:  # a chain: each starts where the one before ended
        assert meter.last_reading == previous
        assert meter.quantity == meter.latest_reading - meter.last_reading > 0
        previous = meter.latest_reading
    assert previous == D("170")  # the highest always posts
    hotel.refresh_from_db()
    assert hotel.last_meter_reading == D("170")
    assert sum(m.quantity for m in posted) == D("170")


def test_a_tax_change_racing_synced_sales_taxes_each_at_the_rate_when_it_happened(
    concurrently, hotel, head_office, sales_rep, north, products
):
    from stock.services import distribution_create, stock_receive

    cyl = products["12.7KG"]
    stock_receive(depot=north, product=cyl, quantity=20, actor=head_office)
    distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=20,
        kind="COLLECTION",
        actor=head_office,
    )
    now = timezone.now()
    change_from = now - timedelta(hours=3, minutes=30)

    def sell(hours_ago):
        return lambda: sale_post(
            customer=hotel,
            sales_rep=sales_rep,
            actor=sales_rep,
            lines=[{"product": cyl, "quantity": 1}],
            occurred_at=now - timedelta(hours=hours_ago),
        )

    calls = [sell(hours) for hours in (6, 1, 5, 2, 4, 3)]
    calls.insert(3, lambda: tax_rate_set(rate="10", actor=head_office, effective_from=change_from))
    outcomes = concurrently(calls)
    change = outcomes[3]
    sales = [o for i, o in enumerate(outcomes) if i != 3]
    assert all(isinstance(o, Transaction) for o in sales), sales
    if isinstance(change, BaseException):  # a sale that happened after it committed first
        assert isinstance(change, ValidationError), repr(change)
        assert change.error_dict["effective_from"][0].code == "reprices_history"
        assert TaxRate.objects.count() == 1
    else:
        assert TaxRate.objects.count() == 2
    for sale in Transaction.objects.all():
        assert sale.tax_rate == tax_rate_in_force(at=sale.occurred_at), sale.number
        assert sale.tax_amount == (D("250") * sale.tax_rate / 100).quantize(D("0.01"))
