"""The renderings: A4 PDFs of invoice, credit note and receipt (read back with pypdf),
the thermal copy as ESC/POS bytes (58 and 80 mm) and as an 80 mm PDF, and the PDF an
outbox message attaches."""

import io
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.test import override_settings
from pypdf import PdfReader

from billing.services import (
    credit_note_pdf,
    document_pdf,
    invoice_pdf,
    payment_escpos,
    receipt_escpos,
    receipt_pdf,
    thermal_pdf,
)
from billing.services.escpos import columns_for

# Every test reads rows; the marker keeps them with the database tests when another module
# runs a transactional test (which empties the tables) first.
pytestmark = pytest.mark.django_db

COMPANY = {
    "COMPANY_NAME": "Harbour Gas Ltd",
    "COMPANY_ADDRESS": "1 Quay Street\nPort Town",
    "COMPANY_TAX_ID": "TIN-998877",
}

pytest_plugins = ["billing.tests.render_fixtures"]


def text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@override_settings(**COMPANY, CURRENCY="LKR")
def test_the_tax_invoice_carries_what_the_law_asks(credit_sale):
    credit_sale.refresh_from_db()
    content = text(invoice_pdf(transaction=credit_sale))
    for expected in (
        "TAX INVOICE",
        credit_sale.number,
        "Harbour Gas Ltd",
        "1 Quay Street",
        "Port Town",
        "Tax ID: TIN-998877",
        f"{credit_sale.customer.name} ({credit_sale.customer.code})",
        "12 Harbour Road",
        "12.7 kg cylinder",
        "LKR 3,000.00",  # a rate
        "LKR 6,000.00",  # its subtotal
        "Meter: last reading",
        "100.00",
        "120.50",
        "20.50",  # the meter's quantity
        "LKR 250.00",  # its rate
        "LKR 13,325.00",  # net
        "GST 18 %",
        "LKR 2,398.50",  # tax
        "LKR 15,723.50",  # total
        "Amount due",
        "Account balance",
        "Code ",
    ):
        assert expected in content, expected
    assert credit_sale.total_amount == Decimal("15723.50")


def test_a_cash_invoice_has_no_account_balance_and_nothing_due(cash_sale):
    content = text(invoice_pdf(transaction=cash_sale))
    assert cash_sale.number in content
    assert "Account balance" not in content
    assert re.search(r"Amount due\s*0\.00", content)


def test_the_date_is_in_the_business_time_zone(credit_sale, settings):
    from django.utils import timezone

    settings.TIME_ZONE = "Asia/Colombo"
    timezone.activate("Asia/Colombo")
    try:
        local = timezone.localtime(credit_sale.created_at)
        assert local.strftime("%H:%M") in text(invoice_pdf(transaction=credit_sale))
    finally:
        timezone.deactivate()


def test_a_credit_note_names_the_invoice_and_the_reason(credit_note):
    content = text(credit_note_pdf(credit_note=credit_note))
    assert "CREDIT NOTE" in content
    assert credit_note.number in content
    assert credit_note.transaction.number in content
    assert "Wrong customer" in content
    assert "3,000.00" in content


def test_a_receipt_states_its_allocations_and_money_on_account(payment, credit_sale):
    content = text(receipt_pdf(payment=payment))
    assert "RECEIPT" in content
    assert payment.number in content
    assert credit_sale.number in content  # the sale it settles
    assert "20,000.00" in content
    assert "Held on account" in content
    assert "4,276.50" in content  # 20,000.00 - 15,723.50
    assert "CHQ 000123" in content


def test_a_reversed_payment_prints_as_a_reversal_notice(payment, head_office):
    from sales.services import payment_reverse

    payment_reverse(payment=payment, actor=head_office, reason="Cheque bounced")
    content = text(receipt_pdf(payment=payment))
    assert "PAYMENT REVERSAL NOTICE" in content
    assert "Cheque bounced" in content


def _printed_lines(data: bytes) -> list[str]:
    """The text lines of ESC/POS bytes, commands and the QR's data taken out."""
    data = re.sub(rb"\x1d\(k(..)\x31\x50\x30", lambda m: b"\x00QR", data)
    data = re.sub(
        rb"\x1b[@]|\x1b[aE].|\x1d!.|\x1d\(k\x03\x00..\d|\x1d\(k\x04\x00.{4}|\x1dV..",
        b"",
        data,
        flags=re.S,
    )
    return data.split(b"\n")


@pytest.mark.parametrize("width", [58, 80])
def test_the_thermal_copy_is_esc_pos_that_fits_the_roll(credit_sale, width):
    data = receipt_escpos(transaction=credit_sale, width_mm=width)
    assert data.startswith(b"\x1b@")  # ESC @: initialise
    assert b"\x1d!\x11" in data  # double-size heading
    assert b"\x1bE\x01" in data  # bold
    assert b"\x1d(k" in data  # the QR: stored
    assert b"\x31\x51\x30" in data  # and printed
    assert data.endswith(b"\x1dVB\x03")  # feed and cut
    assert credit_sale.number.encode() in data
    assert b"15,723.50" in data
    columns = columns_for(width)
    qr_start = data.index(b"\x1d(k\x04")
    text_part = data[:qr_start] + data[data.index(b"\x31\x51\x30") + 3 :]
    for line in _printed_lines(text_part):
        assert len(line) <= columns, line


def test_a_thermal_roll_is_58_or_80_mm(credit_sale):
    with pytest.raises(ValueError, match="58 or 80"):
        receipt_escpos(transaction=credit_sale, width_mm=76)


def test_a_payment_has_a_thermal_receipt(payment):
    data = payment_escpos(payment=payment, width_mm=58)
    assert data.startswith(b"\x1b@")
    assert payment.number.encode() in data


def test_the_thermal_pdf_is_a_roll_wide_page(credit_sale, payment, credit_note):
    for document in (credit_sale, payment, credit_note):
        pdf = thermal_pdf(document=document)
        page = PdfReader(io.BytesIO(pdf)).pages[0]
        assert round(float(page.mediabox.width) / 72 * 25.4) == 80
        assert document.number in page.extract_text()


@pytest.mark.parametrize("kind", ["sale", "payment", "credit_note"])
def test_document_pdf_gives_an_outbox_message_its_attachment(kind, request):
    document = request.getfixturevalue({"sale": "credit_sale"}.get(kind, kind))
    message = SimpleNamespace(
        document_type=document._meta.label, document_id=document.pk, number=document.number
    )
    name, pdf = document_pdf(message)
    assert name == f"{document.number}.pdf"
    assert document.number in text(pdf)


def test_the_invoice_renders_in_a_few_queries(credit_sale, cash_sale, django_assert_num_queries):
    with django_assert_num_queries(3):  # the sale, its lines, its audit entry
        receipt_escpos(transaction=cash_sale)
    with django_assert_num_queries(4):  # and the customer's balance
        invoice_pdf(transaction=credit_sale)


def test_a_voided_invoice_says_so_and_names_its_credit_note(credit_note):
    content = text(invoice_pdf(transaction=credit_note.transaction))
    assert "VOID" in content
    assert credit_note.number in content
    assert "Wrong customer" in content
