"""payment_reverse: a bounced cheque or a mistaken entry. The payment stays; what it
settled is taken back by new allocation rows; the balance is restored; money still on
account settles the oldest unpaid sales again. And the ceiling on one payment."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum

from core.models import AuditLog
from sales.models import Payment, PaymentAllocation, Transaction
from sales.selectors import customer_balance, customers_with_account
from sales.services import payment_record, payment_reverse, sale_post, sale_void

pytestmark = pytest.mark.django_db


def credit_sales(customer, rep, product, count):
    return [
        sale_post(
            customer=customer, sales_rep=rep, actor=rep, lines=[{"product": product, "quantity": 1}]
        )
        for _ in range(count)
    ]


def paid(*sales):
    out = []
    for sale in sales:
        sale.refresh_from_db()
        out.append((sale.amount_paid, sale.is_paid))
    return out


def allocation_rows():
    return list(PaymentAllocation.objects.order_by("id").values_list("id", "amount"))


@pytest.fixture
def three_sales(credit_customer, loaded_vehicle, products):
    return credit_sales(credit_customer, loaded_vehicle, products["12.7KG"], 3)  # 3000 each


def test_a_reversal_unsettles_the_sales_and_restores_the_balance(
    credit_customer, three_sales, manager
):
    a, b, c = three_sales
    payment = payment_record(
        customer=credit_customer, amount="4500.00", actor=manager, method="CHEQUE", reference="7781"
    )
    assert customer_balance(customer=credit_customer) == Decimal("4500.00")
    before = allocation_rows()

    reversed_ = payment_reverse(payment=payment, actor=manager, reason="  Cheque 7781\nbounced ")

    assert paid(a, b, c) == [(Decimal("0"), False)] * 3
    assert customer_balance(customer=credit_customer) == Decimal("9000.00")
    listed = customers_with_account(type(credit_customer).objects.filter(pk=credit_customer.pk))
    assert listed.get().balance_value == Decimal("9000.00")  # the lists agree
    payment.refresh_from_db()
    assert payment == reversed_
    assert payment.is_reversed
    assert (payment.reversed_by, payment.reversal_reason) == (manager, "Cheque 7781 bounced")
    assert (payment.amount, payment.allocated, payment.unallocated) == (
        Decimal("4500.00"),
        Decimal("0"),
        Decimal("0"),
    )
    # Append-only: the earlier rows are untouched, the reversal is new negative rows.
    after = allocation_rows()
    assert after[: len(before)] == before
    assert sorted(amount for _id, amount in after[len(before) :]) == [
        Decimal("-3000.00"),
        Decimal("-1500.00"),
    ]
    assert PaymentAllocation.objects.filter(payment=payment).aggregate(t=Sum("amount"))[
        "t"
    ] == Decimal("0")
    entry = AuditLog.objects.get(action="payment_reverse")
    assert entry.actor == manager
    assert entry.data["reason"] == "Cheque 7781 bounced"
    assert entry.data["unsettled"] == [
        {"sale": a.number, "amount": "3000.00", "due": "3000.00"},
        {"sale": b.number, "amount": "1500.00", "due": "3000.00"},
    ]
    assert entry.data["balance_after"] == "9000.00"


def test_money_still_on_account_settles_the_oldest_sales_again(
    credit_customer, three_sales, manager
):
    a, b, c = three_sales
    first = payment_record(customer=credit_customer, amount="3000.00", actor=manager)  # a
    second = payment_record(customer=credit_customer, amount="7500.00", actor=manager)  # b, c
    assert second.unallocated == Decimal("1500.00")

    payment_reverse(payment=first, actor=manager, reason="Entered twice")

    assert paid(a, b, c) == [
        (Decimal("1500.00"), False),  # the 1500 on account settles the oldest again
        (Decimal("3000.00"), True),
        (Decimal("3000.00"), True),
    ]
    second.refresh_from_db()
    assert second.unallocated == Decimal("0")
    assert customer_balance(customer=credit_customer) == Decimal("1500.00")
    entry = AuditLog.objects.get(action="payment_reverse")
    assert entry.data["resettled"] == [
        {"sale": a.number, "payment": second.number, "amount": "1500.00"}
    ]


def test_a_reversed_payment_never_settles_a_later_sale(
    credit_customer, loaded_vehicle, products, manager
):
    advance = payment_record(customer=credit_customer, amount="5000.00", actor=manager)
    payment_reverse(payment=advance, actor=manager, reason="Wrong customer")
    (sale,) = credit_sales(credit_customer, loaded_vehicle, products["12.7KG"], 1)
    assert paid(sale) == [(Decimal("0"), False)]
    assert customer_balance(customer=credit_customer) == Decimal("3000.00")
    assert not PaymentAllocation.objects.filter(payment=advance).exists()


def test_a_payment_whose_sale_was_voided_reverses_what_it_settles_now(
    credit_customer, three_sales, manager
):
    a, b, c = three_sales
    payment = payment_record(customer=credit_customer, amount="3000.00", actor=manager)  # a
    sale_void(transaction=a, actor=manager, reason="Wrong product")  # the money moves to b
    assert paid(b) == [(Decimal("3000.00"), True)]

    payment_reverse(payment=payment, actor=manager, reason="Cheque returned")

    assert paid(a, b, c) == [(Decimal("0"), False)] * 3
    assert customer_balance(customer=credit_customer) == Decimal("6000.00")
    assert PaymentAllocation.objects.filter(payment=payment).aggregate(t=Sum("amount"))[
        "t"
    ] == Decimal("0")


def test_reversing_twice_is_refused(credit_customer, three_sales, manager, head_office):
    payment = payment_record(customer=credit_customer, amount="100.00", actor=manager)
    payment_reverse(payment=payment, actor=manager, reason="Bounced")
    rows = allocation_rows()
    with pytest.raises(ValidationError) as exc:
        payment_reverse(payment=payment, actor=head_office, reason="Again")
    assert exc.value.error_list[0].code == "already_reversed"
    assert f"{payment.number} was already reversed" in exc.value.messages[0]
    assert "by northmanager: Bounced" in exc.value.messages[0]
    assert allocation_rows() == rows
    assert AuditLog.objects.filter(action="payment_reverse").count() == 1


@pytest.mark.parametrize(
    ("reason", "text"),
    [
        ("", "Say why"),
        ("   \n ", "Say why"),
        (None, "Say why"),
        ("bounced\x00", "plain words"),
        ("x" * 256, "at most 255"),
    ],
)
def test_a_reason_in_plain_words_is_required(credit_customer, three_sales, manager, reason, text):
    payment = payment_record(customer=credit_customer, amount="100.00", actor=manager)
    with pytest.raises(ValidationError) as exc:
        payment_reverse(payment=payment, actor=manager, reason=reason)
    assert text in exc.value.message_dict["reason"][0]
    payment.refresh_from_db()
    assert not payment.is_reversed


def test_only_head_office_and_the_depots_managers_reverse(
    credit_customer, three_sales, manager, user_factory, south, loaded_vehicle
):
    payment = payment_record(customer=credit_customer, amount="100.00", actor=manager)
    south_manager = user_factory("MANAGER", depots=[south])
    for actor in (south_manager, loaded_vehicle):
        with pytest.raises(PermissionDenied):
            payment_reverse(payment=payment, actor=actor, reason="Bounced")
    payment.refresh_from_db()
    assert not payment.is_reversed
    assert customer_balance(customer=credit_customer) == Decimal("8900.00")


def test_a_reversed_payment_counts_back_in_the_balance_of_a_customer_in_credit(
    credit_customer, manager, head_office
):
    payment = payment_record(customer=credit_customer, amount="500.00", actor=manager)
    assert customer_balance(customer=credit_customer) == Decimal("-500.00")
    payment_reverse(payment=payment, actor=head_office, reason="Card charge-back")
    assert customer_balance(customer=credit_customer) == Decimal("0.00")
    assert Payment.objects.get().is_reversed


# --- The ceiling on one payment ------------------------------------------------------------


def test_a_payment_above_the_ceiling_is_refused(credit_customer, manager, settings):
    settings.PAYMENT_MAX_AMOUNT = Decimal("10000000.00")
    with pytest.raises(ValidationError) as exc:
        payment_record(customer=credit_customer, amount="150000000.00", actor=manager)
    (error,) = exc.value.error_dict["amount"]
    assert error.code == "payment_max_amount"
    assert "150,000,000.00" in error.message
    assert "10,000,000.00" in error.message
    assert Payment.objects.count() == 0


def test_the_ceiling_comes_from_the_setting(credit_customer, manager, settings):
    settings.PAYMENT_MAX_AMOUNT = Decimal("1000.00")
    assert payment_record(customer=credit_customer, amount="1000.00", actor=manager)
    with pytest.raises(ValidationError) as exc:
        payment_record(customer=credit_customer, amount="1000.01", actor=manager)
    assert "1,000.00" in exc.value.message_dict["amount"][0]


def test_a_typo_payment_can_no_longer_open_the_credit_limit(
    credit_customer, loaded_vehicle, products, manager, settings
):
    """The incident: 150,000,000.00 accepted, then a credit sale over the limit."""
    with pytest.raises(ValidationError):
        payment_record(customer=credit_customer, amount="150000000.00", actor=manager)
    credit_sales(credit_customer, loaded_vehicle, products["12.7KG"], 6)  # 18000 of 20000
    with pytest.raises(ValidationError, match="over the credit limit"):
        credit_sales(credit_customer, loaded_vehicle, products["12.7KG"], 1)


# --- Two reversals at once -------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_reversals_of_one_payment_at_once_one_wins(
    concurrently, credit_customer, three_sales, manager, head_office
):
    a, b, c = three_sales
    payment = payment_record(customer=credit_customer, amount="4500.00", actor=manager)
    other = payment_record(customer=credit_customer, amount="2000.00", actor=manager)

    def reverse(actor):
        return lambda: payment_reverse(payment=payment, actor=actor, reason="Bounced")

    outcomes = concurrently([reverse(manager), reverse(head_office)] * 3)
    done = [o for o in outcomes if isinstance(o, Payment)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert (len(done), len(refused)) == (1, 5), outcomes
    assert all(e.error_list[0].code == "already_reversed" for e in refused)
    assert PaymentAllocation.objects.filter(payment=payment).aggregate(t=Sum("amount"))[
        "t"
    ] == Decimal("0")
    assert AuditLog.objects.filter(action="payment_reverse").count() == 1
    # The other payment keeps what it settled (1500 of b, 500 of c); a is unpaid again.
    assert paid(a, b, c) == [
        (Decimal("0"), False),
        (Decimal("1500.00"), False),
        (Decimal("500.00"), False),
    ]
    assert customer_balance(customer=credit_customer) == Decimal("7000.00")
    total_paid = Transaction.objects.aggregate(t=Sum("amount_paid"))["t"]
    assert total_paid == Decimal("2000.00")
    other.refresh_from_db()
    assert other.allocated == Decimal("2000.00")


def test_the_handheld_sees_that_a_payment_was_reversed(
    credit_customer, three_sales, manager, sales_rep
):
    """A representative whose customer's cheque bounced sees it on the handheld."""
    from rest_framework.test import APIClient

    payment = payment_record(
        customer=credit_customer,
        amount="3000.00",
        actor=sales_rep,
        method="CHEQUE",
        reference="7782",
    )
    api = APIClient()
    api.force_authenticate(sales_rep)
    before = api.get(f"/api/payments/{payment.number}/").json()
    assert (before["reversed"], before["reversed_at"], before["reversal_reason"]) == (
        False,
        None,
        "",
    )
    payment_reverse(payment=payment, actor=manager, reason="Cheque bounced")
    after = api.get(f"/api/payments/{payment.number}/").json()
    assert after["reversed"] is True
    assert after["reversed_at"] is not None
    assert (after["reversed_by"], after["reversal_reason"]) == ("northmanager", "Cheque bounced")
    listed = api.get("/api/payments/").json()["results"][0]
    assert listed["reversed"] is True
