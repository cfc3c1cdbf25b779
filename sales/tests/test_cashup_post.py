"""cashup_post and cashup_confirm: the cash a representative should hold (cash sales +
cash payments received - cash deposit refunds paid out, since their previous cash-up),
voids and reversals, who may post and confirm, the note over the tolerance."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.models import AuditLog
from sales.day_models import CashUp
from sales.day_selectors import cash_expected
from sales.services import (
    cashup_confirm,
    cashup_post,
    cylinder_return,
    deposit_set,
    payment_record,
    payment_reverse,
    sale_post,
    sale_void,
)

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def cyl(products):
    return products["12.7KG"]


def sell(customer, rep, cyl, quantity=1, empties=None):
    line = {"product": cyl, "quantity": quantity}
    if empties is not None:
        line["empties_returned"] = empties
    return sale_post(customer=customer, sales_rep=rep, actor=rep, lines=[line])


def codes(exc):
    return {field: [e.code for e in errors] for field, errors in exc.error_dict.items()}


def test_expected_is_cash_sales_plus_cash_payments_less_cash_refunds(
    cash_customer, credit_customer, loaded_vehicle, cyl, head_office
):
    rep = loaded_vehicle
    deposit_set(product=cyl, amount="400", actor=head_office)
    sell(cash_customer, rep, cyl)  # 3000.00
    sell(cash_customer, rep, cyl, quantity=1, empties=0)  # 3000.00 + 400.00 deposit
    sell(credit_customer, rep, cyl)  # credit: not cash
    payment_record(customer=credit_customer, amount="500", actor=rep)  # cash, by the rep
    payment_record(customer=credit_customer, amount="700", actor=rep, method="CHEQUE",
                   reference="CHQ 1")  # fmt: skip
    payment_record(customer=credit_customer, amount="900", actor=head_office)  # not the rep's
    cylinder_return(customer=cash_customer, sales_rep=rep, actor=rep,
                    lines=[{"product": cyl, "quantity": 1}])  # fmt: skip  # 400.00 paid out

    cashup = cashup_post(sales_rep=rep, counted_cash="6400.00", actor=rep)

    assert (cashup.cash_sales, cashup.cash_payments, cashup.cash_refunds) == (
        D("6400.00"),
        D("500.00"),
        D("400.00"),
    )
    assert cashup.expected_cash == D("6500.00")
    assert (cashup.counted_cash, cashup.variance) == (D("6400.00"), D("-100.00"))
    assert cashup.number == f"CU-{timezone.localdate().year}-000001"
    assert (cashup.status, cashup.depot, cashup.period_start) == ("POSTED", rep.home_depot, None)
    entry = AuditLog.objects.get(action="cashup_post")
    assert entry.data["expected_cash"] == "6500.00"
    assert entry.data["variance"] == "-100.00"


def test_a_cash_sale_voided_before_the_cash_up_counts_nothing(
    cash_customer, loaded_vehicle, cyl, head_office
):
    rep = loaded_vehicle
    kept = sell(cash_customer, rep, cyl)
    voided = sell(cash_customer, rep, cyl, quantity=2)
    sale_void(transaction=voided, actor=head_office, reason="wrong customer")
    cashup = cashup_post(sales_rep=rep, counted_cash=kept.total_amount, actor=rep)
    assert cashup.cash_sales == kept.total_amount == D("3000.00")
    assert cashup.variance == 0


def test_a_cash_sale_voided_after_its_cash_up_is_handed_back_in_the_next(
    cash_customer, loaded_vehicle, cyl, head_office
):
    rep = loaded_vehicle
    sale = sell(cash_customer, rep, cyl)
    first = cashup_post(sales_rep=rep, counted_cash="3000.00", actor=rep)
    sale_void(transaction=sale, actor=head_office, reason="customer returned it unopened")
    second = cashup_post(sales_rep=rep, counted_cash="0", actor=rep)
    assert first.expected_cash == D("3000.00")
    assert (second.cash_sales, second.expected_cash) == (D("-3000.00"), D("-3000.00"))
    assert second.variance == D("3000.00")  # counted 0: the 3000.00 went back to the customer
    assert second.period_start == first.created_at


def test_a_void_that_takes_a_cash_refund_back_counts_against_the_refunds(
    cash_customer, loaded_vehicle, cyl, head_office
):
    rep = loaded_vehicle
    deposit_set(product=cyl, amount="400", actor=head_office)
    sell(cash_customer, rep, cyl, quantity=2, empties=0)  # 6000 + 800 deposit
    first = cashup_post(sales_rep=rep, counted_cash="6800.00", actor=rep)
    # one delivered, two empties taken back: 400.00 refunded in cash
    refunding = sell(cash_customer, rep, cyl, quantity=1, empties=2)
    middle = cashup_post(sales_rep=rep, counted_cash="2600.00", actor=rep)
    sale_void(transaction=refunding, actor=head_office, reason="keyed twice")
    last = cashup_post(sales_rep=rep, counted_cash="0", actor=rep)
    assert first.expected_cash == D("6800.00")
    assert (middle.cash_sales, middle.cash_refunds, middle.expected_cash) == (
        D("3000.00"),
        D("400.00"),
        D("2600.00"),
    )
    # the credit note hands 3000.00 back; the customer gives the 400.00 refund back
    assert (last.cash_sales, last.cash_refunds, last.expected_cash) == (
        D("-3000.00"),
        D("-400.00"),
        D("-2600.00"),
    )


def test_a_reversed_cash_payment_nets_to_nothing_or_is_taken_off_the_next(
    credit_customer, loaded_vehicle, cyl, head_office
):
    rep = loaded_vehicle
    sell(credit_customer, rep, cyl)
    same_day = payment_record(customer=credit_customer, amount="100", actor=rep)
    payment_reverse(payment=same_day, actor=head_office, reason="keyed twice")
    later = payment_record(customer=credit_customer, amount="250", actor=rep)
    first = cashup_post(sales_rep=rep, counted_cash="250", actor=rep)
    payment_reverse(payment=later, actor=head_office, reason="wrong customer, money returned")
    second = cashup_post(sales_rep=rep, counted_cash="0", actor=rep)
    assert first.cash_payments == D("250.00")
    assert (second.cash_payments, second.variance) == (D("-250.00"), D("250.00"))


def test_the_previous_cash_up_is_the_boundary(cash_customer, loaded_vehicle, cyl):
    rep = loaded_vehicle
    sell(cash_customer, rep, cyl)
    first = cashup_post(sales_rep=rep, counted_cash="3000", actor=rep)
    sell(cash_customer, rep, cyl, quantity=2)
    assert cash_expected(sales_rep=rep).expected == D("6000.00")
    second = cashup_post(sales_rep=rep, counted_cash="6000", actor=rep)
    assert (second.expected_cash, second.variance, second.period_start) == (
        D("6000.00"),
        D("0.00"),
        first.created_at,
    )
    assert second.number.endswith("-000002")
    assert cash_expected(sales_rep=rep).expected == 0


def test_a_cash_up_posted_earlier_leaves_later_documents_to_the_next(
    cash_customer, loaded_vehicle, cyl
):
    """Posting time decides: a cash-up dated before a sale (at=) does not count it."""
    rep = loaded_vehicle
    cashup = cashup_post(
        sales_rep=rep, counted_cash="0", actor=rep, at=timezone.now() - timedelta(minutes=5)
    )
    sell(cash_customer, rep, cyl)
    assert cashup.expected_cash == 0
    assert cash_expected(sales_rep=rep).expected == D("3000.00")


@pytest.mark.parametrize(
    ("counted", "code"),
    [
        ("-0.01", "amount_too_small"),
        ("12.345", "too_many_decimals"),
        ("1e3", "not_an_amount"),
        (1.5, "not_an_amount"),
        ("1000000000000", "amount_too_large"),
    ],
)
def test_bad_counted_cash_is_refused_on_its_field(sales_rep, counted, code):
    with pytest.raises(ValidationError) as caught:
        cashup_post(sales_rep=sales_rep, counted_cash=counted, actor=sales_rep)
    assert codes(caught.value) == {"counted_cash": [code]}
    assert not CashUp.objects.exists()


def test_a_long_note_is_refused(sales_rep):
    with pytest.raises(ValidationError) as caught:
        cashup_post(sales_rep=sales_rep, counted_cash="0", actor=sales_rep, note="x" * 256)
    assert codes(caught.value) == {"note": ["max_length"]}


def test_only_a_sales_representative_has_a_cash_up(manager):
    with pytest.raises(ValidationError) as caught:
        cashup_post(sales_rep=manager, counted_cash="0", actor=manager)
    assert codes(caught.value) == {"sales_rep": ["not_active_sales_rep"]}


def test_who_may_post(sales_rep, manager, head_office, user_factory, north, south):
    other_rep = user_factory("SALES", depots=[north])
    south_manager = user_factory("MANAGER", depots=[south])
    for outsider in (other_rep, south_manager):
        with pytest.raises(PermissionDenied):
            cashup_post(sales_rep=sales_rep, counted_cash="0", actor=outsider)
    assert not CashUp.objects.exists()
    for actor in (sales_rep, manager, head_office):
        cashup = cashup_post(sales_rep=sales_rep, counted_cash="0", actor=actor)
        assert cashup.created_by == actor
    assert CashUp.objects.count() == 3


def test_an_idempotency_key_posts_once(sales_rep):
    first = cashup_post(sales_rep=sales_rep, counted_cash="10", actor=sales_rep,
                        idempotency_key="k-1")  # fmt: skip
    again = cashup_post(sales_rep=sales_rep, counted_cash="10.00", actor=sales_rep,
                        idempotency_key="k-1")  # fmt: skip
    assert again.pk == first.pk
    assert again.idempotent_replay
    with pytest.raises(ValidationError) as caught:
        cashup_post(sales_rep=sales_rep, counted_cash="11", actor=sales_rep, idempotency_key="k-1")
    assert codes(caught.value) == {"idempotency_key": ["idempotency_key_reused"]}
    assert CashUp.objects.count() == 1


# --- Confirmation ---------------------------------------------------------------------


@pytest.fixture
def short_cashup(cash_customer, loaded_vehicle, cyl):
    sell(cash_customer, loaded_vehicle, cyl)
    return cashup_post(sales_rep=loaded_vehicle, counted_cash="2995.00", actor=loaded_vehicle)


def test_a_variance_over_the_tolerance_needs_a_note(short_cashup, manager):
    with pytest.raises(ValidationError) as caught:
        cashup_confirm(cashup=short_cashup, actor=manager)
    assert codes(caught.value) == {"note": ["note_required"]}
    assert "short by" in caught.value.messages[0]
    short_cashup.refresh_from_db()
    assert short_cashup.status == "POSTED"
    confirmed = cashup_confirm(cashup=short_cashup, actor=manager, note="5.00 paid in next day")
    assert (confirmed.status, confirmed.confirmed_by, confirmed.confirm_note) == (
        "CONFIRMED",
        manager,
        "5.00 paid in next day",
    )
    assert confirmed.confirmed_at is not None
    assert AuditLog.objects.filter(action="cashup_confirm").count() == 1


def test_within_the_tolerance_no_note_is_needed(short_cashup, head_office, settings):
    settings.CASHUP_VARIANCE_TOLERANCE = D("5.00")
    assert cashup_confirm(cashup=short_cashup, actor=head_office).status == "CONFIRMED"


def test_an_exact_cash_up_is_confirmed_without_a_note(sales_rep, manager):
    cashup = cashup_post(sales_rep=sales_rep, counted_cash="0", actor=sales_rep)
    assert cashup_confirm(cashup=cashup, actor=manager).status == "CONFIRMED"


def test_confirming_twice_is_refused(short_cashup, manager, head_office):
    cashup_confirm(cashup=short_cashup, actor=manager, note="ok")
    with pytest.raises(ValidationError) as caught:
        cashup_confirm(cashup=short_cashup, actor=head_office, note="again")
    assert caught.value.code == "already_confirmed"
    assert "northmanager" in caught.value.messages[0]


def test_who_may_confirm(short_cashup, loaded_vehicle, user_factory, south):
    south_manager = user_factory("MANAGER", depots=[south])
    for actor in (loaded_vehicle, south_manager):
        with pytest.raises(PermissionDenied):
            cashup_confirm(cashup=short_cashup, actor=actor, note="fine")
    short_cashup.refresh_from_db()
    assert short_cashup.status == "POSTED"
