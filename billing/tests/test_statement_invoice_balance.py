"""A credit customer's tax invoice states the account balance right after it (DESIGN.md;
billing.services.balance_at at the invoice's posting), on the A4 copy and the thermal
copy alike: a reprint after later sales and payments still says what it said."""

import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from billing.services import invoice_pdf, receipt_escpos, thermal_pdf
from billing.services.documents import invoice_document
from billing.tests.posting_clock import moment

pytestmark = pytest.mark.django_db
pytest_plugins = ["billing.tests.statement_fixtures"]

LABEL = "Account balance after this invoice"


def balance_fact(sale) -> str:
    return dict(invoice_document(transaction=sale).facts)[LABEL]


def test_each_invoice_states_the_balance_right_after_it(ledger):
    first = ledger.sale(moment(3))  # 3,000
    second = ledger.sale(moment(2), quantity=2)  # 6,000
    ledger.pay("5000.00", moment(1))
    assert balance_fact(first) == "3,000.00"  # not today's 4,000.00
    assert balance_fact(second) == "9,000.00"

    pdf = PdfReader(io.BytesIO(invoice_pdf(transaction=first))).pages[0].extract_text()
    assert LABEL in pdf
    assert "3,000.00" in pdf
    assert "4,000.00" not in pdf
    assert b"3,000.00" in receipt_escpos(transaction=first, width_mm=58)
    assert b"4,000.00" not in receipt_escpos(transaction=first)
    # The second invoice's total is 6,000.00: 9,000.00 can only be its balance line.
    assert b"9,000.00" in receipt_escpos(transaction=second, width_mm=58)
    roll = PdfReader(io.BytesIO(thermal_pdf(document=second))).pages[0].extract_text()
    assert "9,000.00" in roll


def test_the_balance_counts_what_came_before_the_invoice(ledger):
    ledger.pay("1000.00", moment(5))  # held on account
    sale = ledger.sale(moment(4))
    assert balance_fact(sale) == "2,000.00"


def test_a_payment_synced_later_that_happened_earlier_leaves_the_invoice_as_printed(ledger):
    """The handheld took 1,000.00 before the sale but synced it after the sale was posted:
    the invoice printed at the sale said 3,000.00, and every copy still does."""
    from sales.services import payment_record

    sale = ledger.sale(moment(2))
    assert balance_fact(sale) == "3,000.00"
    payment_record(
        customer=ledger.customer,
        amount=Decimal("1000.00"),
        actor=ledger.boss,
        occurred_at=moment(3),
        at=moment(1),
    )
    assert balance_fact(sale) == "3,000.00"
