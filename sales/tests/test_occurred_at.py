"""occurred_at on sales, payments and cylinder returns (#17, offline capture): stored
beside created_at; the rates, tax and deposits in force when the sale happened price it;
the number's year, ledger, history and audit time follow the posting; a moment in the
future or older than SYNC_MAX_AGE_DAYS is refused with nothing written; a late meter
reading must still rise above the latest; idempotency keys fingerprint occurred_at."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.models import AuditLog
from sales.models import Customer, CylinderReturn, MeterSale, Payment, Transaction
from sales.services import (
    customer_create,
    cylinder_return,
    deposit_set,
    payment_record,
    rate_set,
    sale_post,
    tax_rate_set,
)
from stock.models import StockMovement
from stock.services import distribution_create, stock_receive

pytestmark = pytest.mark.django_db

D = Decimal
NOW = timezone.now()
OPENED = NOW - timedelta(days=20)


def written() -> tuple[int, ...]:
    return (
        Transaction.objects.count(),
        Payment.objects.count(),
        CylinderReturn.objects.count(),
        StockMovement.objects.count(),
        AuditLog.objects.count(),
        MeterSale.objects.count(),
    )


def refusal(exc: ValidationError, field: str = "occurred_at") -> str:
    return exc.error_dict[field][0].code


@pytest.fixture
def shop(north, head_office, sales_rep, products):
    """Opened 20 days ago: tax 5 %, a 12.7KG deposit of 1000.00, a credit customer H1 and
    a cash customer W1 at 12.7KG 3000.00 and BULK 250.00, and 20 full 12.7KG cylinders on
    the representative's vehicle."""
    tax_rate_set(rate="5", actor=head_office, at=OPENED)
    deposit_set(product=products["12.7KG"], amount="1000", actor=head_office, at=OPENED)
    customers = {}
    for code, kind in (("H1", "CREDIT"), ("W1", "CASH")):
        customers[code] = customer_create(
            code=code,
            name=f"Customer {code}",
            depot=north,
            payment_type=kind,
            actor=head_office,
            at=OPENED,
        )
        for product, rate in (("12.7KG", "3000"), ("BULK", "250")):
            rate_set(
                customer=customers[code],
                product=products[product],
                rate=rate,
                actor=head_office,
                at=OPENED,
            )
    cyl = products["12.7KG"]
    stock_receive(depot=north, product=cyl, quantity=100, actor=head_office, at=OPENED)
    distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=20,
        kind="COLLECTION",
        actor=head_office,
        at=OPENED,
    )
    return customers


def sell(customer: Customer, rep, products, **extra) -> Transaction:
    return sale_post(
        customer=customer,
        sales_rep=rep,
        actor=rep,
        lines=[{"product": products["12.7KG"], "quantity": 1, "empties_returned": 0}],
        **extra,
    )


# --- Stored beside created_at ----------------------------------------------------------


def test_a_sale_keeps_when_it_happened_beside_when_it_was_posted(shop, sales_rep, products):
    happened = NOW - timedelta(days=2, hours=3)
    sale = sell(shop["H1"], sales_rep, products, occurred_at=happened)
    sale.refresh_from_db()
    assert sale.occurred_at == happened
    assert sale.created_at > happened + timedelta(days=2)  # posted now
    entry = AuditLog.objects.get(action="sale_post", object_id=str(sale.pk))
    assert entry.data["occurred_at"] == happened.isoformat()
    assert entry.created_at == sale.created_at  # the audit entry is the posting's
    movements = StockMovement.objects.filter(reference=sale.number)
    assert {m.created_at for m in movements} == {sale.created_at}


def test_without_occurred_at_a_sale_happened_when_it_was_posted(shop, sales_rep, products):
    at = NOW - timedelta(hours=1)
    sale = sell(shop["W1"], sales_rep, products, at=at)
    sale.refresh_from_db()
    assert sale.occurred_at == sale.created_at == at
    entry = AuditLog.objects.get(action="sale_post", object_id=str(sale.pk))
    assert entry.data["occurred_at"] == at.isoformat()


def test_a_moment_just_ahead_within_the_clock_skew_is_taken_as_now(shop, sales_rep, products):
    at = NOW - timedelta(hours=1)
    sale = sell(shop["W1"], sales_rep, products, at=at, occurred_at=at + timedelta(minutes=4))
    sale.refresh_from_db()
    assert sale.occurred_at == at  # nothing is dated after its own posting


# --- Priced as it was when it happened -------------------------------------------------


def test_a_sale_that_happened_before_a_tax_change_is_taxed_at_the_older_rate(
    shop, head_office, sales_rep, products
):
    tax_rate_set(rate="10", actor=head_office, at=NOW - timedelta(days=1))
    before = sell(shop["H1"], sales_rep, products, occurred_at=NOW - timedelta(days=2))
    after = sell(shop["H1"], sales_rep, products, occurred_at=NOW - timedelta(hours=2))
    assert (before.tax_rate, before.tax_amount) == (D("5.00"), D("150.00"))
    assert (after.tax_rate, after.tax_amount) == (D("10.00"), D("300.00"))


def test_a_sale_that_happened_before_a_contract_rate_change_is_priced_at_the_older(
    shop, head_office, sales_rep, products
):
    customer = shop["H1"]
    rate_set(
        customer=customer,
        product=products["12.7KG"],
        rate="3600",
        actor=head_office,
        at=NOW - timedelta(days=1),
    )
    before = sell(customer, sales_rep, products, occurred_at=NOW - timedelta(days=2))
    after = sell(customer, sales_rep, products)
    assert before.lines.get().rate == D("3000.00")
    assert before.net_amount == D("3000.00")
    assert after.lines.get().rate == D("3600.00")


def test_a_sale_that_happened_before_a_deposit_change_charges_the_older_deposit(
    shop, head_office, sales_rep, products
):
    deposit_set(
        product=products["12.7KG"], amount="1500", actor=head_office, at=NOW - timedelta(days=1)
    )
    before = sell(shop["H1"], sales_rep, products, occurred_at=NOW - timedelta(days=2))
    after = sell(shop["H1"], sales_rep, products)
    assert (before.lines.get().deposit_rate, before.deposit_amount) == (D("1000"), D("1000"))
    assert (after.lines.get().deposit_rate, after.deposit_amount) == (D("1500"), D("1500"))
    # 3000 + 5 % tax + the deposit (not taxed)
    assert before.total_amount == D("3000") + D("150") + D("1000")


def test_a_sale_synced_before_an_already_set_future_rate_is_priced_at_the_older(
    shop, head_office, sales_rep, products
):
    tomorrow = timezone.localdate(NOW) + timedelta(days=1)
    tax_rate_set(rate="12", actor=head_office, effective_from=tomorrow)
    sale = sell(shop["H1"], sales_rep, products, occurred_at=NOW - timedelta(days=1))
    assert sale.tax_rate == D("5.00")


# --- Changes may not reprice what already happened --------------------------------------


def test_a_change_may_take_effect_after_a_synced_sale_happened_not_before(
    shop, head_office, sales_rep, products
):
    """The check compares with when the latest sale happened (occurred_at), not when it
    was posted: a sale synced now that happened two days ago leaves yesterday free."""
    sell(shop["H1"], sales_rep, products, occurred_at=NOW - timedelta(days=2))
    cyl = products["12.7KG"]
    too_early = NOW - timedelta(days=3)
    calls = {
        "tax": lambda when: tax_rate_set(rate="8", actor=head_office, effective_from=when),
        "deposit": lambda when: deposit_set(
            product=cyl, amount="1200", actor=head_office, effective_from=when
        ),
        "rate": lambda when: rate_set(
            customer=shop["H1"], product=cyl, rate="3300", actor=head_office, effective_from=when
        ),
    }
    for name, call in calls.items():
        before = written()
        with pytest.raises(ValidationError) as refused:
            call(too_early)
        assert refusal(refused.value, "effective_from") == "reprices_history", name
        assert "would reprice sales already posted" in refused.value.messages[0]
        assert written() == before, name
    yesterday = NOW - timedelta(days=1)
    assert calls["tax"](yesterday).effective_from == yesterday
    assert calls["deposit"](yesterday).effective_from == yesterday
    assert calls["rate"](yesterday).effective_from == yesterday


def test_a_contract_rate_reprices_only_that_customers_sales_of_that_product(
    shop, head_office, sales_rep, products
):
    """Another customer's sale, or this customer's sale of another product, does not stop
    a backdated rate; this customer's meter sale of the product does."""
    sell(shop["W1"], sales_rep, products, occurred_at=NOW - timedelta(days=1))
    sale_post(
        customer=shop["H1"],
        sales_rep=sales_rep,
        actor=sales_rep,
        meter_reading="100",
        occurred_at=NOW - timedelta(days=1),
    )
    two_days_ago = NOW - timedelta(days=2)
    version = rate_set(
        customer=shop["H1"],
        product=products["12.7KG"],
        rate="3100",
        actor=head_office,
        effective_from=two_days_ago,
    )
    assert version.effective_from == two_days_ago
    with pytest.raises(ValidationError) as refused:
        rate_set(
            customer=shop["H1"],
            product=products["BULK"],
            rate="260",
            actor=head_office,
            effective_from=two_days_ago,
        )
    assert refusal(refused.value, "effective_from") == "reprices_history"
    assert "customer H1" in refused.value.messages[0]


# --- Numbers follow the posting --------------------------------------------------------


def test_a_sale_on_new_years_eve_synced_on_new_years_day_takes_the_new_years_number(
    north, head_office, sales_rep, products
):
    zone = timezone.get_default_timezone()
    year = timezone.localdate().year
    eve = datetime(year - 1, 12, 31, 23, 50, tzinfo=zone)
    new_year = datetime(year, 1, 1, 0, 10, tzinfo=zone)
    opened = eve - timedelta(days=10)
    customer = customer_create(
        code="NY", name="New Year", depot=north, payment_type="CASH", actor=head_office, at=opened
    )
    cyl = products["12.7KG"]
    rate_set(customer=customer, product=cyl, rate="3000", actor=head_office, at=opened)
    stock_receive(depot=north, product=cyl, quantity=5, actor=head_office, at=opened)
    distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=5,
        kind="COLLECTION",
        actor=head_office,
        at=opened,
    )
    sale = sell(customer, sales_rep, products, at=new_year, occurred_at=eve)
    assert sale.number == f"TX-{year}-000001"
    sale.refresh_from_db()
    assert (sale.occurred_at, sale.created_at) == (eve, new_year)
    assert timezone.localdate(sale.occurred_at).year == year - 1


# --- Refused with nothing written ------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "code"),
    [
        (timedelta(minutes=6), "occurred_at_future"),
        (-timedelta(days=7, minutes=1), "occurred_at_too_old"),
    ],
)
def test_a_moment_in_the_future_or_too_old_is_refused_with_nothing_written(
    shop, sales_rep, products, offset, code
):
    sell(shop["H1"], sales_rep, products)  # a sale to take a cylinder back from
    before = written()
    when = timezone.now() + offset
    calls = [
        lambda: sell(shop["H1"], sales_rep, products, occurred_at=when, idempotency_key="k1"),
        lambda: payment_record(
            customer=shop["H1"], amount="100", actor=sales_rep, occurred_at=when
        ),
        lambda: cylinder_return(
            customer=shop["H1"],
            sales_rep=sales_rep,
            lines=[{"product": products["12.7KG"], "quantity": 1}],
            actor=sales_rep,
            occurred_at=when,
        ),
    ]
    for call in calls:
        with pytest.raises(ValidationError) as refused:
            call()
        assert refusal(refused.value) == code
        assert written() == before
    # the refused sale kept no key: the same key posts once the moment is right
    assert sell(shop["H1"], sales_rep, products, idempotency_key="k1").number


def test_a_naive_moment_or_not_a_moment_is_refused_before_anything(shop, sales_rep, products):
    before = written()
    naive = datetime(2026, 11, 30, 9, 15)  # noqa: DTZ001 - the point
    calls = (
        lambda value: sell(shop["H1"], sales_rep, products, occurred_at=value),
        lambda value: payment_record(
            customer=shop["H1"], amount="1", actor=sales_rep, occurred_at=value
        ),
        lambda value: cylinder_return(
            customer=shop["H1"],
            sales_rep=sales_rep,
            lines=[{"product": products["12.7KG"], "quantity": 1}],
            actor=sales_rep,
            occurred_at=value,
        ),
    )
    for value, code in ((naive, "occurred_at_naive"), ("2026-11-30T09:15", "invalid")):
        for call in calls:
            with pytest.raises(ValidationError) as refused:
                call(value)
            assert refusal(refused.value) == code
    assert written() == before


@pytest.mark.parametrize(
    ("moment", "code"),
    [
        (datetime(1, 1, 1, 0, 30, tzinfo=timezone.get_fixed_timezone(330)), "occurred_at_too_old"),
        (
            datetime(9999, 12, 31, 23, 30, tzinfo=timezone.get_fixed_timezone(-300)),
            "occurred_at_future",
        ),
    ],
)
def test_the_first_or_last_moment_a_datetime_holds_is_refused_not_a_crash(
    shop, sales_rep, products, moment, code
):
    before = written()
    with pytest.raises(ValidationError) as refused:
        sell(shop["H1"], sales_rep, products, occurred_at=moment, idempotency_key="edge")
    assert refusal(refused.value) == code
    assert written() == before
