"""Deposit refunds credited to a credit customer's account are money on account: they
settle the oldest unpaid sales like a payment does (allocations without a payment), a
void that takes a refund back releases what it settled, and check_money proves that the
unpaid sales always add up to the balance."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from sales.models import PaymentAllocation, Transaction
from sales.money_checks import allocations_check, settled_check
from sales.selectors import customer_balance
from sales.services import cylinder_return, deposit_set, payment_record, sale_post, sale_void

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def cyl(products):
    return products["12.7KG"]


@pytest.fixture
def credit(customer_factory):
    return customer_factory(payment_type="CREDIT")


def sell(customer, rep, product, quantity=1):
    line = {"product": product, "quantity": quantity, "empties_returned": 0}
    return sale_post(customer=customer, sales_rep=rep, actor=rep, lines=[line])


def give_back(customer, rep, product, quantity=1):
    lines = [{"product": product, "quantity": quantity}]
    return cylinder_return(customer=customer, sales_rep=rep, actor=rep, lines=lines)


def money_clean():
    for check in (allocations_check, settled_check):
        outcome = check()
        assert outcome.differences == [], outcome.differences


def test_a_refund_to_the_account_settles_the_unpaid_sale(credit, loaded_vehicle, cyl, head_office):
    """The reviewer's case: 3,400.00 owed (deposit 400.00 in it), one cylinder back
    (400.00 credited), 3,000.00 paid: the customer owes nothing and the sale is paid."""
    deposit_set(product=cyl, amount="400", actor=head_office)
    sale = sell(credit, loaded_vehicle, cyl)
    assert sale.total_amount == D("3400.00")
    returned = give_back(credit, loaded_vehicle, cyl)
    assert (returned.refund_amount, returned.refund_to) == (D("400.00"), "ACCOUNT")
    sale.refresh_from_db()
    assert (sale.amount_paid, sale.is_paid) == (D("400.00"), False)
    applied = PaymentAllocation.objects.get(transaction=sale)
    assert (applied.payment, applied.amount) == (None, D("400.00"))
    assert customer_balance(customer=credit) == D("3000.00")
    money_clean()

    payment_record(customer=credit, amount="3000", actor=head_office)
    sale.refresh_from_db()
    assert (sale.amount_paid, sale.is_paid) == (D("3400.00"), True)
    assert customer_balance(customer=credit) == D("0.00")
    assert not Transaction.objects.unpaid_credit().filter(customer=credit).exists()
    money_clean()


def test_a_refund_with_nothing_unpaid_waits_on_the_account(
    credit, loaded_vehicle, cyl, head_office
):
    deposit_set(product=cyl, amount="400", actor=head_office)
    first = sell(credit, loaded_vehicle, cyl)
    payment_record(customer=credit, amount="3400", actor=head_office)
    give_back(credit, loaded_vehicle, cyl)
    assert customer_balance(customer=credit) == D("-400.00")
    assert not PaymentAllocation.objects.filter(payment=None).exists()
    money_clean()

    second = sell(credit, loaded_vehicle, cyl)  # 3,400.00: 400.00 of it from the credit
    second.refresh_from_db()
    assert (second.amount_paid, second.is_paid) == (D("400.00"), False)
    assert customer_balance(customer=credit) == D("3000.00")
    money_clean()

    # Voiding it gives the 400.00 back to the credit on account, nothing is lost.
    sale_void(transaction=second, actor=head_office, reason="Wrong customer")
    second.refresh_from_db()
    assert second.amount_paid == D("0")
    assert sum(a.amount for a in second.allocations.all()) == D("0")
    assert customer_balance(customer=credit) == D("-400.00")
    first.refresh_from_db()
    assert first.is_paid
    money_clean()


def test_a_void_that_takes_a_refund_back_releases_what_it_settled(
    credit, loaded_vehicle, cyl, head_office
):
    """A at 400.00 deposit, B at 1,000.00; one back refunds the average, 700.00, which
    settles A in part. Voiding B leaves -300.00 of deposit on no cylinders: the void takes
    300.00 of the refund back from the account, so A is owed 300.00 more again."""
    deposit_set(product=cyl, amount="400", actor=head_office)
    first = sell(credit, loaded_vehicle, cyl)
    deposit_set(product=cyl, amount="1000", actor=head_office)
    second = sell(credit, loaded_vehicle, cyl)
    give_back(credit, loaded_vehicle, cyl)
    first.refresh_from_db()
    assert first.amount_paid == D("700.00")
    money_clean()

    sale_void(transaction=second, actor=head_office, reason="Never delivered")
    first.refresh_from_db()
    assert (first.amount_paid, first.is_paid) == (D("400.00"), False)
    released = PaymentAllocation.objects.filter(transaction=first, amount__lt=0).get()
    assert (released.payment, released.amount) == (None, D("-300.00"))
    assert customer_balance(customer=credit) == first.total_amount - first.amount_paid
    money_clean()


def test_check_money_names_a_sale_whose_paid_amount_disagrees(
    credit, loaded_vehicle, cyl, head_office
):
    sale = sell(credit, loaded_vehicle, cyl)
    out = StringIO()
    call_command("check_money", stdout=out)
    assert "add up" in out.getvalue()

    Transaction.objects.filter(pk=sale.pk).update(amount_paid=D("10.00"))
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("check_money", stdout=out, stderr=err)
    assert exit_.value.code == 1
    assert f"SALE {sale.number} says 10.00 paid, its allocations add up to 0.00" in (out.getvalue())
    assert "1 differences in the allocations" in err.getvalue()


def test_check_money_names_money_left_on_account_beside_an_unpaid_sale(
    credit, loaded_vehicle, cyl, head_office, monkeypatch
):
    """What the defect looked like before the return settled with the deposit credit: a
    refund to the account that settles nothing while a sale is unpaid."""
    monkeypatch.setattr("sales.services.custody.settle", lambda *args, **kwargs: [])
    deposit_set(product=cyl, amount="400", actor=head_office)
    sell(credit, loaded_vehicle, cyl)
    give_back(credit, loaded_vehicle, cyl)
    outcome = settled_check()
    assert outcome.differences == [
        f"CUSTOMER {credit.code} has 400.00 on account while 3,400.00 of their sales is unpaid"
    ]


def test_the_sale_page_names_the_deposit_credit_that_settled_it(
    credit, loaded_vehicle, cyl, head_office, client
):
    deposit_set(product=cyl, amount="400", actor=head_office)
    sale = sell(credit, loaded_vehicle, cyl)
    give_back(credit, loaded_vehicle, cyl)
    client.force_login(head_office)
    page = client.get(f"/admin/sales/transaction/{sale.pk}/change/").content.decode()
    assert "Payments and credits that settled it" in page
    assert "Deposit refunds credited" in page
    assert "400.00" in page
