"""occurred_at (#17), continued from test_occurred_at: meter readings arriving out of
order, idempotency keys that fingerprint the moment, payments and cylinder returns
captured offline."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.idempotency import REUSED
from core.models import AuditLog
from sales.models import Transaction
from sales.services import cylinder_return, deposit_set, payment_record, sale_post
from sales.tests import test_occurred_at as base

pytestmark = pytest.mark.django_db

D = Decimal
NOW = base.NOW
shop = base.shop  # the fixture
sell, written, refusal = base.sell, base.written, base.refusal


# --- Meter readings arriving out of order -----------------------------------------------


def test_a_meter_reading_captured_earlier_but_arriving_later_must_still_rise(
    shop, sales_rep, products
):
    customer = shop["H1"]

    def read(value: str, hours_ago: int) -> Transaction:
        return sale_post(
            customer=customer,
            sales_rep=sales_rep,
            actor=sales_rep,
            meter_reading=value,
            occurred_at=NOW - timedelta(hours=hours_ago),
        )

    first = read("1200", hours_ago=1)
    assert first.meter_sale.quantity == D("1200")
    before = written()
    with pytest.raises(ValidationError) as refused:
        read("1100", hours_ago=2)  # read before the 1200, synced after it
    assert refusal(refused.value, "meter_reading") == "meter_reading_not_higher"
    assert written() == before
    customer.refresh_from_db()
    assert customer.last_meter_reading == D("1200")
    with pytest.raises(ValidationError) as refused:
        read("1300", hours_ago=3)  # captured earlier still, but higher: backwards in time
    assert refusal(refused.value, "meter_reading") == "meter_reading_out_of_order"
    assert written() == before
    later = read("1300", hours_ago=0)  # taken after the 1200: it posts
    assert (later.meter_sale.last_reading, later.meter_sale.quantity) == (D("1200"), D("100"))
    customer.refresh_from_db()
    assert customer.last_meter_reading == D("1300")


# --- Idempotency ------------------------------------------------------------------------


def test_a_key_replays_the_same_moment_and_refuses_another(shop, sales_rep, products):
    happened = NOW - timedelta(days=1)
    first = sell(shop["H1"], sales_rep, products, occurred_at=happened, idempotency_key="hh-7")
    same_instant = happened.astimezone(timezone.get_fixed_timezone(8 * 60))
    again = sell(shop["H1"], sales_rep, products, occurred_at=same_instant, idempotency_key="hh-7")
    assert again.pk == first.pk
    before = written()
    for other in (happened + timedelta(minutes=1), None):
        with pytest.raises(ValidationError) as refused:
            sell(shop["H1"], sales_rep, products, occurred_at=other, idempotency_key="hh-7")
        assert refusal(refused.value, "idempotency_key") == REUSED
    assert written() == before


def test_a_replay_is_answered_even_when_its_moment_has_since_grown_too_old(
    shop, sales_rep, products
):
    """The first posting was in time; its retry days later is the same request."""
    happened = NOW - timedelta(days=6)
    first = sell(shop["H1"], sales_rep, products, occurred_at=happened, idempotency_key="old")
    later = NOW + timedelta(days=3)
    again = sell(
        shop["H1"], sales_rep, products, occurred_at=happened, idempotency_key="old", at=later
    )
    assert again.pk == first.pk


def test_payment_and_return_keys_fingerprint_their_moment(shop, sales_rep, products):
    customer = shop["H1"]
    sell(customer, sales_rep, products)
    happened = NOW - timedelta(hours=5)
    paid = payment_record(
        customer=customer,
        amount="500",
        actor=sales_rep,
        occurred_at=happened,
        idempotency_key="p1",
    )
    returned = cylinder_return(
        customer=customer,
        sales_rep=sales_rep,
        lines=[{"product": products["12.7KG"], "quantity": 1}],
        actor=sales_rep,
        occurred_at=happened,
        idempotency_key="r1",
    )
    assert (
        payment_record(
            customer=customer,
            amount="500",
            actor=sales_rep,
            occurred_at=happened,
            idempotency_key="p1",
        ).pk
        == paid.pk
    )
    with pytest.raises(ValidationError) as refused:
        payment_record(
            customer=customer,
            amount="500",
            actor=sales_rep,
            occurred_at=happened - timedelta(hours=1),
            idempotency_key="p1",
        )
    assert refusal(refused.value, "idempotency_key") == REUSED
    with pytest.raises(ValidationError) as refused:
        cylinder_return(
            customer=customer,
            sales_rep=sales_rep,
            lines=[{"product": products["12.7KG"], "quantity": 1}],
            actor=sales_rep,
            occurred_at=happened + timedelta(hours=1),
            idempotency_key="r1",
        )
    assert refusal(refused.value, "idempotency_key") == REUSED
    assert returned.number.startswith("RET-")


# --- Payments and returns ---------------------------------------------------------------


def test_a_payment_taken_offline_is_received_on_the_day_it_happened(shop, sales_rep, products):
    sell(shop["H1"], sales_rep, products)
    happened = NOW - timedelta(days=3)
    payment = payment_record(
        customer=shop["H1"], amount="1000", actor=sales_rep, occurred_at=happened
    )
    payment.refresh_from_db()
    assert payment.occurred_at == happened
    assert payment.received_on == timezone.localdate(happened)
    assert payment.created_at > happened + timedelta(days=2)
    entry = AuditLog.objects.get(action="payment_record", object_id=str(payment.pk))
    assert entry.data["occurred_at"] == happened.isoformat()
    given = timezone.localdate(NOW) - timedelta(days=4)
    dated = payment_record(
        customer=shop["H1"], amount="1", actor=sales_rep, occurred_at=happened, received_on=given
    )
    assert dated.received_on == given  # a day given is kept


def test_a_cylinder_return_keeps_its_moment_and_refunds_the_average_held(
    shop, head_office, sales_rep, products
):
    customer = shop["H1"]
    sell(customer, sales_rep, products)  # one cylinder, 1000.00 deposit
    deposit_set(product=products["12.7KG"], amount="4000", actor=head_office)
    happened = NOW - timedelta(days=1)
    returned = cylinder_return(
        customer=customer,
        sales_rep=sales_rep,
        lines=[{"product": products["12.7KG"], "quantity": 1}],
        actor=sales_rep,
        occurred_at=happened,
    )
    returned.refresh_from_db()
    assert returned.occurred_at == happened
    assert returned.refund_amount == D("1000.00")  # what was paid, not today's deposit
    entry = AuditLog.objects.get(action="cylinder_return", object_id=str(returned.pk))
    assert entry.data["occurred_at"] == happened.isoformat()
    assert entry.created_at == returned.created_at
