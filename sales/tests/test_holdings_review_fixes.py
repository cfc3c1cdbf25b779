"""Deposits and holdings after the review of issue #16: a void settles the deposit it
leaves with the customer (never below zero, never on no cylinders), a closed customer's
cylinders come back with their deposit, and a count down forfeits the deposit on the
missing cylinders (sales.services.holdings, sales.services.custody)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from billing.services import statement_build
from core.models import AuditLog
from sales.conservation import holdings_check
from sales.models import Customer, HoldingEntry
from sales.selectors import customer_balance, cylinders_held, deposit_held
from sales.services import cylinder_return, cylinders_held_adjust, deposit_set, sale_post, sale_void
from stock.models import Product

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def cyl(products):
    return products["12.7KG"]


def sell(customer, rep, product, quantity, empties=0):
    line = {"product": product, "quantity": quantity, "empties_returned": empties}
    return sale_post(customer=customer, sales_rep=rep, actor=rep, lines=[line])


def take_back(customer, rep, product, quantity):
    return cylinder_return(
        customer=customer,
        sales_rep=rep,
        actor=rep,
        lines=[{"product": product, "quantity": quantity}],
    )


def statement_agrees(customer):
    today = timezone.localdate()
    statement = statement_build(
        customer=customer, date_from=today - dt.timedelta(days=1), date_to=today
    )
    assert statement.closing_balance == customer_balance(customer=customer)


# --- 1+2: a void settles the deposit it leaves --------------------------------------------


def test_a_void_after_returns_refunded_more_than_it_charged_takes_the_excess_back(
    credit_customer, loaded_vehicle, cyl, head_office
):
    """2 at 100, 2 at 400, 2 returned (refund 500 at the average): voiding the second
    sale takes back its 800 charge, leaving -300: the customer gives back 300 of the
    refund (they paid 200 on the 2 returned, and got 200 back)."""
    deposit_set(product=cyl, amount="100", actor=head_office)
    sell(credit_customer, loaded_vehicle, cyl, 2)
    deposit_set(product=cyl, amount="400", actor=head_office)
    sale = sell(credit_customer, loaded_vehicle, cyl, 2)
    take_back(credit_customer, loaded_vehicle, cyl, 2)
    sale_void(transaction=sale, actor=head_office, reason="keyed twice")
    assert (
        cylinders_held(customer=credit_customer, product=cyl),
        deposit_held(customer=credit_customer, product=cyl),
    ) == (0, D("0.00"))
    settle, reverse = HoldingEntry.objects.filter(kind="VOID").order_by("id")
    assert (settle.quantity, settle.deposit, settle.refund_to) == (0, D("300.00"), "ACCOUNT")
    assert f"taken back with the void of {sale.number}" in settle.note
    assert (reverse.quantity, reverse.deposit, reverse.refund_to) == (-2, D("-800.00"), "")
    assert reverse.note == "keyed twice"
    # the first sale (6000 + 200 deposit) less the 200 net refunded on its 2 cylinders
    assert customer_balance(customer=credit_customer) == D("6000.00")
    assert sale.credit_note.amount == sale.total_amount
    statement_agrees(credit_customer)
    assert holdings_check().differences == []  # the running deposit never went below 0


def test_a_void_refunds_the_deposit_left_on_no_cylinders_in_cash(
    cash_customer, loaded_vehicle, cyl, head_office
):
    """2 at 400, 2 at 100, 2 returned (refund 500 in cash): voiding the second sale
    leaves no cylinders and 300 of deposit: the representative pays it out."""
    deposit_set(product=cyl, amount="400", actor=head_office)
    sell(cash_customer, loaded_vehicle, cyl, 2)
    deposit_set(product=cyl, amount="100", actor=head_office)
    sale = sell(cash_customer, loaded_vehicle, cyl, 2)
    take_back(cash_customer, loaded_vehicle, cyl, 2)
    sale_void(transaction=sale, actor=head_office, reason="keyed twice")
    assert (
        cylinders_held(customer=cash_customer, product=cyl),
        deposit_held(customer=cash_customer, product=cyl),
    ) == (0, D("0.00"))
    reverse, refund = HoldingEntry.objects.filter(kind="VOID").order_by("id")
    assert (reverse.quantity, reverse.deposit, reverse.refund_to) == (-2, D("-200.00"), "")
    assert (refund.quantity, refund.deposit, refund.refund_to) == (0, D("-300.00"), "CASH")
    assert refund.sales_rep == loaded_vehicle
    assert f"paid out in cash by {loaded_vehicle.username}" in refund.note
    refunded = -sum(HoldingEntry.objects.filter(refund_to="CASH").values_list("deposit", flat=True))
    assert refunded == D("800.00")  # all the 800 paid on the 2 cylinders kept, and no more
    assert holdings_check().differences == []


def test_a_sale_after_an_opening_count_can_be_voided_once_its_cylinders_came_back(
    credit_customer, loaded_vehicle, cyl, head_office
):
    """2 counted (no deposit), 2 sold at 400, 2 returned (refund 400): the void takes
    back the 400 refunded, since the cylinders returned were the counted ones."""
    cylinders_held_adjust(
        customer=credit_customer, product=cyl, counted=2, reason="opening", actor=head_office
    )
    deposit_set(product=cyl, amount="400", actor=head_office)
    sale = sell(credit_customer, loaded_vehicle, cyl, 2)
    take_back(credit_customer, loaded_vehicle, cyl, 2)
    sale_void(transaction=sale, actor=head_office, reason="keyed twice")
    assert cylinders_held(customer=credit_customer, product=cyl) == 0
    assert deposit_held(customer=credit_customer, product=cyl) == D("0.00")
    assert customer_balance(customer=credit_customer) == D("0.00")
    statement_agrees(credit_customer)


def test_a_void_leaving_cylinders_keeps_their_deposit(
    credit_customer, loaded_vehicle, cyl, head_office
):
    deposit_set(product=cyl, amount="400", actor=head_office)
    sell(credit_customer, loaded_vehicle, cyl, 3)
    sale = sell(credit_customer, loaded_vehicle, cyl, 1)
    sale_void(transaction=sale, actor=head_office, reason="keyed twice")
    assert cylinders_held(customer=credit_customer, product=cyl) == 3
    assert deposit_held(customer=credit_customer, product=cyl) == D("1200.00")
    assert HoldingEntry.objects.filter(kind="VOID").count() == 1  # nothing to settle


def test_a_void_is_still_refused_when_fewer_cylinders_are_held_than_it_takes_back(
    credit_customer, loaded_vehicle, cyl, head_office
):
    deposit_set(product=cyl, amount="400", actor=head_office)
    sale = sell(credit_customer, loaded_vehicle, cyl, 2)
    take_back(credit_customer, loaded_vehicle, cyl, 1)
    entries = HoldingEntry.objects.count()
    with pytest.raises(ValidationError) as exc:
        sale_void(transaction=sale, actor=head_office, reason="keyed twice")
    assert exc.value.code == "holding_negative"
    assert "they now hold 1 (deposit 400.00)" in exc.value.messages[0]
    assert HoldingEntry.objects.count() == entries


# --- 5: a count down forfeits the deposit on the missing cylinders -------------------------


def test_a_count_down_to_zero_forfeits_the_deposit_so_it_never_leaks_into_refunds(
    credit_customer, loaded_vehicle, cyl, head_office
):
    deposit_set(product=cyl, amount="400", actor=head_office)
    sell(credit_customer, loaded_vehicle, cyl, 2)
    cylinders_held_adjust(
        customer=credit_customer, product=cyl, counted=0, reason="lost", actor=head_office
    )
    assert deposit_held(customer=credit_customer, product=cyl) == D("0.00")
    entry = HoldingEntry.objects.get(kind="ADJUSTMENT")
    assert (entry.quantity, entry.deposit, entry.refund_to) == (-2, D("-800.00"), "")
    assert "Deposit 800.00 on the 2 missing cylinders forfeited" in entry.note
    audit = AuditLog.objects.filter(action="cylinders_held_adjust").latest("id")
    assert audit.data["deposit_forfeited"] == "800.00"
    sell(credit_customer, loaded_vehicle, cyl, 1)
    assert take_back(credit_customer, loaded_vehicle, cyl, 1).refund_amount == D("400.00")
    assert holdings_check().differences == []


def test_a_count_down_forfeits_the_average_and_a_count_up_adds_no_deposit(
    cash_customer, loaded_vehicle, cyl, head_office
):
    deposit_set(product=cyl, amount="1000", actor=head_office)
    sell(cash_customer, loaded_vehicle, cyl, 3)
    deposit_set(product=cyl, amount="0", actor=head_office)
    sell(cash_customer, loaded_vehicle, cyl, 3)  # 6 held, 3000 paid: 500 each
    cylinders_held_adjust(
        customer=cash_customer, product=cyl, counted=5, reason="site visit", actor=head_office
    )
    assert deposit_held(customer=cash_customer, product=cyl) == D("2500.00")
    cylinders_held_adjust(
        customer=cash_customer, product=cyl, counted=8, reason="found 3", actor=head_office
    )
    assert cylinders_held(customer=cash_customer, product=cyl) == 8
    assert deposit_held(customer=cash_customer, product=cyl) == D("2500.00")
    up = HoldingEntry.objects.filter(kind="ADJUSTMENT").latest("id")
    assert (up.quantity, up.deposit, up.note) == (3, D("0.00"), "found 3")


def test_the_count_preview_says_how_much_deposit_is_forfeited(
    client, credit_customer, loaded_vehicle, cyl, head_office
):
    deposit_set(product=cyl, amount="400", actor=head_office)
    sell(credit_customer, loaded_vehicle, cyl, 2)
    client.force_login(head_office)
    url = reverse("admin:sales_customer_holdings_adjust", args=[credit_customer.pk])
    data = {"product": cyl.pk, "counted": "1", "reason": "one lost", "_preview": "1"}
    preview = client.post(url, data)
    text = " ".join(preview.context["preview_lines"])
    assert "400.00 deposit forfeited on the 1 missing" in text
    assert deposit_held(customer=credit_customer, product=cyl) == D("800.00")  # not posted


# --- 4: a closed customer's cylinders come back ---------------------------------------------


def test_a_closed_customers_cylinders_come_back_with_their_deposit(
    credit_customer, loaded_vehicle, cyl, head_office
):
    deposit_set(product=cyl, amount="400", actor=head_office)
    sell(credit_customer, loaded_vehicle, cyl, 2)
    Customer.objects.filter(pk=credit_customer.pk).update(is_active=False)
    credit_customer.refresh_from_db()
    returned = take_back(credit_customer, loaded_vehicle, cyl, 2)
    assert (returned.refund_amount, returned.refund_to) == (D("800.00"), "ACCOUNT")
    assert cylinders_held(customer=credit_customer, product=cyl) == 0
    with pytest.raises(ValidationError) as exc:
        sell(credit_customer, loaded_vehicle, cyl, 1)
    assert "customer_inactive" in {e.code for e in exc.value.error_dict["customer"]}


def test_the_return_form_offers_closed_customers_and_closed_products_still_held(
    rf, credit_customer, loaded_vehicle, cyl, head_office
):
    from sales.forms_custody import CylinderReturnForm

    deposit_set(product=cyl, amount="400", actor=head_office)
    sell(credit_customer, loaded_vehicle, cyl, 2)
    Customer.objects.filter(pk=credit_customer.pk).update(is_active=False)
    Product.objects.filter(pk=cyl.pk).update(is_active=False)
    request = rf.get("/")
    request.user = head_office
    form = CylinderReturnForm(request=request)
    assert credit_customer in form.fields["customer"].queryset
    assert cyl.pk in [product.pk for product in form.cylinders]
    assert "(closed product)" in form.fields[f"qty_{cyl.pk}"].label
