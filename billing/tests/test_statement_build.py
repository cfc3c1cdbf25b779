"""statement_build: the balance brought forward from before the period, every credit
sale, credit note, payment and reversal of the period in posting order with a running
balance, the closing balance, the period's edges in the business time zone, and the
ageing of what is unpaid (0-30, 31-60, 61-90, over 90 days). Documents are back-dated
with the services' `at=` (a reversal under a stopped clock)."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from billing.services import balance_at, statement_build
from billing.services.statements import (
    CREDIT_NOTE,
    INVOICE,
    PAYMENT,
    REVERSAL,
    Ageing,
    day_start,
)
from billing.tests.posting_clock import moment
from sales.selectors import customer_balance

pytestmark = pytest.mark.django_db
pytest_plugins = ["billing.tests.statement_fixtures"]

D = Decimal


def today():
    return timezone.localdate()


def build(customer, days_from, days_to=0):
    return statement_build(
        customer=customer,
        date_from=today() - timedelta(days=days_from),
        date_to=today() - timedelta(days=days_to),
    )


def test_the_opening_balance_is_everything_before_the_period(ledger):
    ledger.sale(moment(50), quantity=2)  # 6,000
    paid = ledger.pay("1000.00", moment(45))
    ledger.sale(moment(5))  # 3,000, in the period
    statement = build(ledger.customer, 10)
    assert statement.opening_balance == D("5000.00")
    assert [(e.kind, e.debit, e.balance) for e in statement.entries] == [
        (INVOICE, D("3000.00"), D("8000.00"))
    ]
    assert statement.closing_balance == D("8000.00")
    assert paid.number not in [e.number for e in statement.entries]


def test_entries_run_in_posting_order_with_a_running_balance(ledger):
    first = ledger.sale(moment(9), quantity=3)  # 9,000
    second = ledger.sale(moment(8))  # 3,000
    payment = ledger.pay("10000.00", moment(7))
    note = ledger.void(second, moment(6)).credit_note
    ledger.reverse(payment, moment(5))
    later = ledger.pay("2000.00", moment(4))
    statement = build(ledger.customer, 10)
    assert statement.opening_balance == 0
    rows = [(e.kind, e.number, e.debit, e.credit, e.balance) for e in statement.entries]
    assert rows == [
        (INVOICE, first.number, D("9000.00"), D(0), D("9000.00")),
        (INVOICE, second.number, D("3000.00"), D(0), D("12000.00")),
        (PAYMENT, payment.number, D(0), D("10000.00"), D("2000.00")),
        (CREDIT_NOTE, note.number, D(0), D("3000.00"), D("-1000.00")),
        (REVERSAL, payment.number, D("10000.00"), D(0), D("9000.00")),
        (PAYMENT, later.number, D(0), D("2000.00"), D("7000.00")),
    ]
    assert [e.date for e in statement.entries] == [
        timezone.localdate(moment(n)) for n in (9, 8, 7, 6, 5, 4)
    ]
    assert statement.entries[3].label == "Credit note"
    assert statement.entries[4].label == "Payment reversed"
    assert statement.total_debits == D("22000.00")
    assert statement.total_credits == D("15000.00")
    assert statement.closing_balance == D("7000.00") == customer_balance(customer=ledger.customer)


def test_cash_sales_never_enter_the_statement(ledger, customer_factory, north):
    from sales.services import customer_update

    ledger.sale(moment(3))
    ledger.pay("3000.00", moment(3, hour=12))  # terms change only on a settled account
    customer_update(customer=ledger.customer, actor=ledger.boss, data={"payment_type": "CASH"})
    ledger.customer.refresh_from_db()
    cash = ledger.sale(moment(2))
    statement = build(ledger.customer, 10)
    assert cash.number not in [e.number for e in statement.entries]
    assert statement.closing_balance == D("0.00") == customer_balance(customer=ledger.customer)


def test_a_document_belongs_to_the_day_it_was_posted_in_the_business_time_zone(ledger, settings):
    """23:30 in Colombo is 18:00 UTC the same day; 00:30 in Colombo is the evening
    before in UTC: each is on the Colombo day, and the statement's days are Colombo's."""
    settings.TIME_ZONE = "Asia/Colombo"
    colombo = timezone.get_default_timezone()
    day = timezone.localdate() - timedelta(days=3)
    late = ledger.sale(datetime.combine(day, time(23, 30), tzinfo=colombo))
    early = ledger.sale(datetime.combine(day + timedelta(days=1), time(0, 30), tzinfo=colombo))
    on_day = statement_build(customer=ledger.customer, date_from=day, date_to=day)
    assert [e.number for e in on_day.entries] == [late.number]
    assert on_day.entries[0].date == day
    next_day = statement_build(
        customer=ledger.customer, date_from=day + timedelta(days=1), date_to=day + timedelta(days=1)
    )
    assert [e.number for e in next_day.entries] == [early.number]
    assert next_day.opening_balance == D("3000.00")
    assert day_start(day).utcoffset() == timedelta(hours=5, minutes=30)
    # Another zone activated (a user's) changes nothing: the business day rules.
    timezone.activate("America/New_York")
    try:
        again = statement_build(customer=ledger.customer, date_from=day, date_to=day)
    finally:
        timezone.deactivate()
    assert [e.number for e in again.entries] == [late.number]


def test_the_last_day_is_included_to_its_last_moment(ledger):
    day = today() - timedelta(days=2)
    tz = timezone.get_default_timezone()
    last = ledger.sale(datetime.combine(day, time(23, 59, 59), tzinfo=tz))
    after = ledger.sale(datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=tz))
    statement = statement_build(customer=ledger.customer, date_from=day, date_to=day)
    assert [e.number for e in statement.entries] == [last.number]
    assert after.number not in [e.number for e in statement.entries]
    following = statement_build(
        customer=ledger.customer, date_from=day + timedelta(days=1), date_to=today()
    )
    assert following.entries[0].number == after.number


@pytest.mark.parametrize(
    ("age", "bucket"),
    [(0, 0), (30, 0), (31, 1), (60, 1), (61, 2), (90, 2), (91, 3), (200, 3)],
)
def test_ageing_puts_an_invoice_in_the_bucket_of_its_age(ledger, age, bucket):
    ledger.sale(moment(age))
    statement = build(ledger.customer, 300)
    expected = [D(0)] * 4
    expected[bucket] = D("3000.00")
    assert list(statement.ageing) == expected
    assert statement.ageing.total == statement.closing_balance


def test_ageing_counts_to_the_statements_last_day_not_today(ledger):
    ledger.sale(moment(50))
    statement = build(ledger.customer, 100, 20)  # ends 20 days ago: the sale is 30 days old
    assert statement.ageing == Ageing(D("3000.00"), D(0), D(0), D(0))


def test_payments_settle_the_oldest_first_so_what_is_owed_is_the_newest(ledger):
    ledger.sale(moment(100))  # over 90
    ledger.sale(moment(70))  # 61-90
    ledger.sale(moment(40), quantity=2)  # 31-60
    ledger.sale(moment(10))  # current
    ledger.pay("4000.00", moment(5))  # all of the oldest, a third of the next
    statement = build(ledger.customer, 200)
    assert statement.ageing == Ageing(D("3000.00"), D("6000.00"), D("2000.00"), D(0))
    assert statement.ageing.labelled()[1] == ("31 to 60 days", D("6000.00"))


def test_a_voided_invoice_is_not_aged_and_credit_is_not_aged(ledger):
    old = ledger.sale(moment(80))
    ledger.void(old, moment(70))
    ledger.sale(moment(20))
    ledger.pay("5000.00", moment(10))
    statement = build(ledger.customer, 100)
    assert statement.closing_balance == D("-2000.00")
    assert statement.ageing == Ageing(D(0), D(0), D(0), D(0))


def test_a_void_after_the_period_still_ages_the_invoice_in_it(ledger):
    sale = ledger.sale(moment(50))
    ledger.void(sale, moment(5))
    statement = build(ledger.customer, 60, 10)
    assert statement.closing_balance == D("3000.00")
    assert statement.ageing.days_31_60 == D("3000.00")


def test_balance_at_counts_a_moment_only_when_inclusive(ledger):
    sale = ledger.sale(moment(5))
    assert balance_at(customer=ledger.customer, before=sale.created_at) == 0
    assert balance_at(customer=ledger.customer, before=sale.created_at, inclusive=True) == D(
        "3000.00"
    )


@pytest.mark.parametrize(
    ("days_from", "days_to", "field", "code"),
    [
        (1, 3, "date_to", "statement_period_reversed"),
        (-1, -5, "date_from", "statement_period_future"),
    ],
)
def test_a_period_that_cannot_be_is_refused_by_field(account, days_from, days_to, field, code):
    with pytest.raises(ValidationError) as refused:
        build(account, days_from, days_to)
    assert [e.code for e in refused.value.error_dict[field]] == [code]


def test_a_missing_day_is_refused_by_field(account):
    with pytest.raises(ValidationError) as refused:
        statement_build(customer=account, date_from=None, date_to=None)  # type: ignore[arg-type]
    assert set(refused.value.error_dict) == {"date_from", "date_to"}
    assert refused.value.error_dict["date_from"][0].code == "statement_date_missing"


def test_a_period_that_ends_in_the_future_is_a_statement_to_today(ledger):
    ledger.sale(moment(1))
    ledger.sale(moment(31))
    statement = statement_build(
        customer=ledger.customer,
        date_from=today() - timedelta(days=5),
        date_to=today() + timedelta(days=30),
    )
    assert statement.date_to == today()
    assert statement.closing_balance == customer_balance(customer=ledger.customer)
    # Aged at today: the older sale is 31 days old, not 61.
    assert statement.ageing == Ageing(D("3000.00"), D("3000.00"), D(0), D(0))


@pytest.mark.parametrize("zone", ["UTC", "Asia/Colombo", "America/New_York"])
def test_the_far_ends_of_the_calendar_are_no_overflow(ledger, settings, zone):
    from datetime import date

    settings.TIME_ZONE = zone
    ledger.sale(moment(2))
    statement = statement_build(
        customer=ledger.customer, date_from=date(1, 1, 1), date_to=date(9999, 12, 31)
    )
    assert statement.opening_balance == 0
    assert statement.closing_balance == D("3000.00")
