"""Invariants 3 to 8 and 10 under real concurrency: PostgreSQL, threads, committed data."""

import itertools
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from sales.models import MeterSale, Transaction
from sales.selectors import customer_balance
from sales.services import payment_record, sale_post, sale_void
from stock.selectors import ledger_differences, stock_on_hand

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def split(outcomes):
    posted = [o for o in outcomes if isinstance(o, Transaction)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    other = [o for o in outcomes if not isinstance(o, (Transaction, ValidationError))]
    return posted, refused, other


def test_concurrent_sales_from_one_vehicle(
    concurrently, customer_factory, loaded_vehicle, products
):
    customers = [customer_factory() for _ in range(4)]
    cyl = products["12.7KG"]

    def sell(customer):
        return lambda: sale_post(
            customer=customer,
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[{"product": cyl, "quantity": 1}],
        )

    posted, refused, other = split(concurrently([sell(customers[i % 4]) for i in range(30)]))
    assert other == []
    assert (len(posted), len(refused)) == (20, 10)
    assert stock_on_hand(product=cyl, sales_rep=loaded_vehicle) == 0
    assert stock_on_hand(product=cyl, state="EMPTY", sales_rep=loaded_vehicle) == 20
    assert list(ledger_differences()) == []


def test_concurrent_meter_sales_serialise(concurrently, cash_customer, user_factory, north):
    reps = [user_factory("SALES", depots=[north]) for _ in range(4)]
    readings = [Decimal(100 + 7 * i) for i in range(1, 21)]

    def read(i, reading):
        rep = reps[i % 4]
        return lambda: sale_post(
            customer=cash_customer, sales_rep=rep, actor=rep, meter_reading=str(reading)
        )

    posted, refused, other = split(concurrently([read(i, r) for i, r in enumerate(readings)]))
    assert other == []
    assert len(posted) >= 1
    assert all("must be above customer" in r.message_dict["meter_reading"][0] for r in refused)
    cash_customer.refresh_from_db()
    meters = list(MeterSale.objects.order_by("transaction_id"))
    # Each posted reading continues from the one before: the reading only moves up.
    for before, after in itertools.pairwise(meters):
        assert after.last_reading == before.latest_reading
        assert after.latest_reading > before.latest_reading
    assert meters[0].last_reading == Decimal("0")
    assert sum(m.quantity for m in meters) == cash_customer.last_meter_reading - Decimal("0")
    assert cash_customer.last_meter_reading == meters[-1].latest_reading


def test_twenty_postings_get_twenty_consecutive_numbers(
    concurrently, customer_factory, user_factory, north
):
    customers = [customer_factory() for _ in range(5)]
    reps = [user_factory("SALES", depots=[north]) for _ in range(5)]

    def meter(i):
        return lambda: sale_post(
            customer=customers[i % 5],
            sales_rep=reps[i % 5],
            actor=reps[i % 5],
            meter_reading=str(10 * (i // 5 + 1)),
        )

    # Each customer gets readings 10, 20, 30, 40 in some order, so some are refused: the
    # numbers of those that posted must still run without a gap.
    outcomes = concurrently([meter(i) for i in range(20)])
    posted, _refused, other = split(outcomes)
    assert other == []
    numbers = sorted(int(t.number.rsplit("-", 1)[1]) for t in posted)
    assert numbers == list(range(1, len(posted) + 1))
    assert len({t.number for t in posted}) == len(posted)


def test_twenty_cylinder_postings_are_numbered_one_to_twenty(
    concurrently, customer_factory, loaded_vehicle, products
):
    customer = customer_factory()

    def sell():
        return sale_post(
            customer=customer,
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[{"product": products["12.7KG"], "quantity": 1}],
        )

    posted, refused, other = split(concurrently([sell] * 20))
    assert (len(posted), refused, other) == (20, [], [])
    assert sorted(int(t.number.rsplit("-", 1)[1]) for t in posted) == list(range(1, 21))


def test_one_idempotency_key_from_ten_threads_posts_once(
    concurrently, cash_customer, loaded_vehicle, products
):
    def retry():
        return sale_post(
            customer=cash_customer,
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            idempotency_key="handheld-7-000123",
            lines=[{"product": products["9KG"], "quantity": 2}],
        )

    posted, refused, other = split(concurrently([retry] * 10))
    assert (len(posted), refused, other) == (10, [], [])
    assert len({t.pk for t in posted}) == 1
    assert Transaction.objects.count() == 1
    assert stock_on_hand(product=products["9KG"], sales_rep=loaded_vehicle) == 8


def test_credit_limit_holds_under_concurrency(
    concurrently, customer_factory, loaded_vehicle, products
):
    customer = customer_factory("CREDIT", credit_limit=Decimal("10000.00"))

    def sell():
        return sale_post(
            customer=customer,
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[{"product": products["12.7KG"], "quantity": 1}],
        )  # 3000

    posted, refused, other = split(concurrently([sell] * 10))
    assert other == []
    assert (len(posted), len(refused)) == (3, 7)
    assert customer_balance(customer=customer) == Decimal("9000.00")


def test_sales_payments_and_voids_together(
    concurrently, customer_factory, loaded_vehicle, products, manager
):
    customer = customer_factory("CREDIT")
    cyl = products["12.7KG"]
    first = [
        sale_post(
            customer=customer,
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[{"product": cyl, "quantity": 1}],
        )
        for _ in range(4)
    ]
    calls = (
        [
            lambda: sale_post(
                customer=customer,
                sales_rep=loaded_vehicle,
                actor=loaded_vehicle,
                lines=[{"product": cyl, "quantity": 1}],
            )
        ]
        * 6
        + [lambda: payment_record(customer=customer, amount="1000.00", actor=manager)] * 6
        + [lambda s=s: sale_void(transaction=s, actor=manager, reason="test") for s in first]
    )
    outcomes = concurrently(calls)
    assert [o for o in outcomes if isinstance(o, Exception)] == []
    posted = Transaction.objects.filter(status="POSTED")
    assert posted.count() == 6
    assert customer_balance(customer=customer) == Decimal("18000.00") - Decimal("6000.00")
    paid = sum(t.amount_paid for t in posted)
    assert paid == Decimal("6000.00")  # every payment settled a posted sale
    assert list(ledger_differences()) == []


def _paused(module, name, monkeypatch):
    """Wrap module.name so the first call stops inside its transaction until released."""
    import threading

    reached, release = threading.Event(), threading.Event()
    real = getattr(module, name)

    def wrapper(*args, **kwargs):
        result = real(*args, **kwargs)
        if not reached.is_set():
            reached.set()
            assert release.wait(10), "never released"
        return result

    monkeypatch.setattr(module, name, wrapper)
    return reached, release


def test_a_rate_change_and_a_sale_at_the_same_moment_agree(
    cash_customer, loaded_vehicle, products, head_office, monkeypatch
):
    """A sale posted while a rate change is under way either comes before the change or
    uses it: never the old rate once the new version has taken effect (invariant 5)."""
    import threading

    import sales.services.rates as rates_module
    from sales.selectors import rate_version_in_force
    from sales.services import rate_set

    cyl = products["12.7KG"]
    reached, release = _paused(rates_module, "effective_moment", monkeypatch)
    outcomes = {}

    def change():
        try:
            outcomes["rate"] = rate_set(
                customer=cash_customer, product=cyl, rate="3500.00", actor=head_office
            )
        finally:
            connections.close_all()

    def sell():
        try:
            outcomes["sale"] = sale_post(
                customer=cash_customer,
                sales_rep=loaded_vehicle,
                actor=loaded_vehicle,
                lines=[{"product": cyl, "quantity": 1}],
            )
        finally:
            connections.close_all()

    changer = threading.Thread(target=change)
    changer.start()
    assert reached.wait(10)  # the change has its moment and has not committed
    seller = threading.Thread(target=sell)
    seller.start()
    seller.join(1)  # the sale waits for the change (the customer's lock)
    release.set()
    changer.join(10)
    seller.join(10)
    sale, version = outcomes["sale"], outcomes["rate"]
    line = sale.lines.get()
    in_force = rate_version_in_force(customer=cash_customer, product=cyl, at=sale.created_at)
    assert line.rate == in_force.rate == Decimal("3500.00")
    assert version.effective_from < sale.created_at


def test_a_void_under_way_does_not_hold_up_other_work_in_its_depot(
    cash_customer, loaded_vehicle, products, head_office, user_factory, north, monkeypatch
):
    """A void locks its sale, not the sale's depot or representative: other postings in
    the depot commit meanwhile (their foreign keys point at those rows)."""
    import threading
    import time

    import sales.services.voids as voids_module
    from stock.services import distribution_create, stock_receive

    cyl = products["12.7KG"]
    sale = sale_post(
        customer=cash_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": cyl, "quantity": 1}],
    )
    other = user_factory("SALES", depots=[north])
    stock_receive(depot=north, product=cyl, quantity=10, actor=head_office)
    reached, release = _paused(voids_module, "levels_lock", monkeypatch)
    voided = {}

    def void():
        try:
            voided["sale"] = sale_void(transaction=sale, actor=head_office, reason="mistake")
        finally:
            connections.close_all()

    voider = threading.Thread(target=void)
    voider.start()
    try:
        assert reached.wait(10)
        started = time.monotonic()
        distribution_create(
            sales_rep=other,
            depot=north,
            product=cyl,
            quantity=2,
            kind="COLLECTION",
            actor=other,
        )
        assert time.monotonic() - started < 5
    finally:
        release.set()
        voider.join(10)
    assert voided["sale"].status == "VOID"
    assert list(ledger_differences()) == []
