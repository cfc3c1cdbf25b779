"""Deposits on the documents: the invoice (A4 PDF and ESC/POS) lists the deposit charged
per cylinder product as its own untaxed line and the deposit refunded on a sale that took
back more empties than it delivered (credited to the account or paid in cash); the RET-
receipt of a cylinder return (A4 PDF, thermal copy, verify code); statements list a
deposit refund credited to the account, and its void, so the closing balance is still
customer_balance."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from pypdf import PdfReader

from billing.services import (
    balance_at,
    cylinder_return_escpos,
    cylinder_return_pdf,
    cylinder_return_thermal_pdf,
    document_verify,
    invoice_pdf,
    receipt_escpos,
    statement_build,
    statement_pdf,
)
from billing.services.statements import (
    DEPOSIT_REFUND,
    DEPOSIT_REFUND_VOID,
    INVOICE,
)
from billing.services.verify import document_code
from sales.selectors import customer_balance

pytestmark = pytest.mark.django_db

D = Decimal


def text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def deposits(head_office, products):
    from sales.services import deposit_set

    deposit_set(product=products["12.7KG"], amount=D("2500.00"), actor=head_office)
    deposit_set(product=products["9KG"], amount=D("1500.00"), actor=head_office)


@pytest.fixture
def credit_customer(customer_factory):
    return customer_factory("CREDIT", credit_limit=D("100000.00"))


def sell(rep, customer, *lines):
    from sales.services import sale_post

    return sale_post(
        customer=customer,
        sales_rep=rep,
        actor=rep,
        lines=[
            {"product": product, "quantity": quantity, "empties_returned": empties}
            for product, quantity, empties in lines
        ],
    )


def give_back(rep, customer, product, quantity):
    from sales.services import cylinder_return

    return cylinder_return(
        customer=customer,
        sales_rep=rep,
        lines=[{"product": product, "quantity": quantity}],
        actor=rep,
    )


def test_the_invoice_lists_each_deposit_as_its_own_untaxed_line(
    deposits, loaded_vehicle, credit_customer, products
):
    sale = sell(
        loaded_vehicle,
        credit_customer,
        (products["12.7KG"], 3, 1),  # the holding grows by 2: 2 x 2,500.00
        (products["9KG"], 1, 0),  # by 1: 1,500.00
    )
    assert sale.deposit_amount == D("6500.00")
    content = text(invoice_pdf(transaction=sale))
    assert "Deposit: 12.7 kg cylinder (not taxed)" in content
    assert "2,500.00" in content
    assert "5,000.00" in content
    assert "Deposit: 9 kg cylinder (not taxed)" in content
    assert "Deposits (not taxed)" in content
    assert "6,500.00" in content
    assert f"{sale.total_amount:,.2f}" in content
    roll = receipt_escpos(transaction=sale, width_mm=58).decode("cp437")
    assert "Deposit: 12.7 kg cylinder" in roll
    assert "2 x 2,500.00" in roll
    assert "5,000.00" in roll


def test_a_sale_taking_back_more_empties_shows_the_refund_and_where_it_went(
    deposits, loaded_vehicle, credit_customer, customer_factory, products
):
    cylinder = products["12.7KG"]
    sell(loaded_vehicle, credit_customer, (cylinder, 2, 0))  # holds 2, paid 5,000.00
    sale = sell(loaded_vehicle, credit_customer, (cylinder, 1, 2))  # one more back
    assert sale.deposit_refund == D("2500.00")
    content = text(invoice_pdf(transaction=sale))
    assert "Deposit refunded: 12.7 kg cylinder" in content
    assert "Deposit refunded (credited to the account)" in content
    assert "-2,500.00" in content
    # Not in the total: the total is the cylinder and its tax only.
    assert sale.total_amount == sale.net_amount + sale.tax_amount

    cash = customer_factory("CASH")
    sell(loaded_vehicle, cash, (cylinder, 1, 0))
    refunded = sell(loaded_vehicle, cash, (cylinder, 1, 2))
    roll = receipt_escpos(transaction=refunded).decode("cp437")
    assert "Deposit refunded (paid in cash)" in roll


def test_an_invoice_without_deposits_has_no_deposit_line(
    loaded_vehicle, customer_factory, products
):
    sale = sell(loaded_vehicle, customer_factory("CASH"), (products["12.7KG"], 2, 0))
    content = text(invoice_pdf(transaction=sale))
    assert "Deposit" not in content


def test_the_cylinder_return_receipt(deposits, loaded_vehicle, credit_customer, products):
    sell(loaded_vehicle, credit_customer, (products["12.7KG"], 3, 0))
    returned = give_back(loaded_vehicle, credit_customer, products["12.7KG"], 2)
    assert returned.refund_amount == D("5000.00")
    content = text(cylinder_return_pdf(cylinder_return=returned))
    for expected in (
        "CYLINDER RETURN",
        returned.number,
        f"{credit_customer.name} ({credit_customer.code})",
        "12.7 kg cylinder",
        "5,000.00",
        "credited to your account",
        loaded_vehicle.username,
    ):
        assert expected in content, expected
    roll = cylinder_return_escpos(cylinder_return=returned, width_mm=58).decode("cp437")
    assert returned.number in roll
    assert "2 cylinders" in roll
    assert cylinder_return_thermal_pdf(cylinder_return=returned).startswith(b"%PDF")
    # Its code verifies on the public page, with the refund as its total.
    code = document_code(returned)
    assert code
    verified = document_verify(number=returned.number, code=code, total="5000.00")
    assert verified is not None
    assert verified.kind == "Cylinder return"
    assert document_verify(number=returned.number, code=code, total="5000.01") is None


def test_a_cash_return_says_the_refund_was_paid_in_cash(
    deposits, loaded_vehicle, customer_factory, products
):
    cash = customer_factory("CASH")
    sell(loaded_vehicle, cash, (products["9KG"], 1, 0))
    returned = give_back(loaded_vehicle, cash, products["9KG"], 1)
    assert "paid to you in cash" in text(cylinder_return_pdf(cylinder_return=returned))


def test_a_return_of_cylinders_without_deposit_says_nothing_is_refunded(
    loaded_vehicle, credit_customer, products
):
    """No deposit rate when they were sold: the receipt says none was held, and shows 0."""
    sell(loaded_vehicle, credit_customer, (products["9KG"], 1, 0))
    returned = give_back(loaded_vehicle, credit_customer, products["9KG"], 1)
    assert returned.refund_amount == 0
    page = text(cylinder_return_pdf(cylinder_return=returned))
    assert "nothing is refunded" in page
    assert "credited to your account" not in page


def test_a_statement_credits_deposit_refunds_and_debits_their_void(
    deposits, loaded_vehicle, credit_customer, products, head_office
):
    from sales.services import sale_void

    cylinder = products["12.7KG"]
    sold = sell(loaded_vehicle, credit_customer, (cylinder, 4, 0))  # 4 held, 10,000.00 paid
    returned = give_back(loaded_vehicle, credit_customer, cylinder, 1)  # 2,500.00 back
    over = sell(loaded_vehicle, credit_customer, (cylinder, 1, 3))  # 2 more back: 5,000.00
    sale_void(transaction=over, actor=head_office, reason="Entered twice")
    today = timezone.localdate()
    statement = statement_build(customer=credit_customer, date_from=today, date_to=today)
    kinds = [(e.kind, e.number, e.debit, e.credit) for e in statement.entries]
    assert (INVOICE, sold.number, sold.total_amount, D("0")) in kinds
    assert (DEPOSIT_REFUND, returned.number, D("0"), D("2500.00")) in kinds
    refunds = [k for k in kinds if k[0] == DEPOSIT_REFUND]
    assert [k[3] for k in refunds] == [D("2500.00"), D("5000.00")]
    voided = [k for k in kinds if k[0] == DEPOSIT_REFUND_VOID]
    assert [(k[2], k[3]) for k in voided] == [(D("5000.00"), D("0"))]
    labels = {e.label for e in statement.entries}
    assert {"Deposit refund", "Deposit refund reversed"} <= labels
    # The running balance closes on the customer's balance, which balance_at agrees with.
    assert statement.closing_balance == customer_balance(customer=credit_customer)
    later = timezone.now() + timedelta(seconds=1)
    assert balance_at(customer=credit_customer, before=later) == statement.closing_balance
    before_return = balance_at(customer=credit_customer, before=returned.created_at)
    after_return = balance_at(customer=credit_customer, before=returned.created_at, inclusive=True)
    assert before_return - after_return == D("2500.00")


def test_a_cash_customers_refund_is_not_on_any_statement(
    deposits, loaded_vehicle, customer_factory, products
):
    cash = customer_factory("CASH")
    sell(loaded_vehicle, cash, (products["9KG"], 2, 0))
    give_back(loaded_vehicle, cash, products["9KG"], 1)
    today = timezone.localdate()
    statement = statement_build(customer=cash, date_from=today, date_to=today)
    assert statement.entries == []
    assert statement.closing_balance == customer_balance(customer=cash) == D("0")


def test_the_statement_pdf_names_the_deposit_refund(
    deposits, loaded_vehicle, credit_customer, products
):
    sell(loaded_vehicle, credit_customer, (products["12.7KG"], 2, 0))
    returned = give_back(loaded_vehicle, credit_customer, products["12.7KG"], 1)
    today = timezone.localdate()
    statement = statement_build(customer=credit_customer, date_from=today, date_to=today)
    content = text(statement_pdf(statement=statement))
    assert f"Deposit refund {returned.number}" in content
    assert "2,500.00" in content
