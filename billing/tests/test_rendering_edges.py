"""Edges of the renderers: a clerk's logo and style, an invoice longer than a page, a
document without an audit entry, an unknown printed format."""

import io
from dataclasses import replace

import pytest
from PIL import Image
from pypdf import PdfReader

from billing.services import invoice_printed_record
from billing.services import layout as layout_module
from billing.services import pdf as pdf_module
from billing.services.layout import document_style, money
from billing.services.verify import document_code, document_verify

pytest_plugins = ["billing.tests.render_fixtures"]


@pytest.fixture
def sample():
    from bench.billing_render import invoice

    return invoice()


def test_the_style_file_is_what_a_clerk_edits(tmp_path, monkeypatch):
    style = tmp_path / "style.json"
    style.write_text('{"accent": "#aa0000", "footer": ["Open 8 to 5"]}', encoding="utf-8")
    monkeypatch.setattr(layout_module, "STYLE_FILE", style)
    document_style.cache_clear()
    try:
        loaded = document_style()
        assert loaded["accent"] == "#aa0000"
        assert loaded["footer"] == ["Open 8 to 5"]
        assert loaded["titles"]["invoice"] == "TAX INVOICE"  # a default kept
    finally:
        document_style.cache_clear()


def test_a_logo_is_drawn_beside_the_seller(tmp_path, monkeypatch, sample):
    logo = tmp_path / "logo.png"
    Image.new("RGB", (120, 40), "navy").save(logo)
    monkeypatch.setattr(
        pdf_module, "document_style", lambda: {**document_style(), "logo": str(logo)}
    )
    with_logo = pdf_module.a4_pdf(sample)
    assert b"/Subtype /Image" in with_logo
    assert sample.number in PdfReader(io.BytesIO(with_logo)).pages[0].extract_text()


def test_a_long_invoice_continues_on_another_page(sample):
    rows = tuple((f"Product {n}", "1", "1", "10.00", "10.00") for n in range(80))
    pdf = pdf_module.a4_pdf(replace(sample, rows=rows))
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) >= 2
    assert "Product 79" in pages[-1].extract_text()
    assert "Subtotal" in pages[-1].extract_text()  # the table's heading again


def test_money_with_and_without_a_currency(settings):
    from decimal import Decimal

    settings.CURRENCY = ""
    assert money(Decimal("1234567.5")) == "1,234,567.50"
    settings.CURRENCY = "LKR"
    assert money(Decimal("0")) == "LKR 0.00"


def test_a_document_without_an_audit_entry_has_no_code(db):
    from decimal import Decimal

    from sales.models import Transaction

    unaudited = Transaction(pk=999_999, number="TX-2026-999999", total_amount=Decimal("1"))
    assert document_code(unaudited) == ""


def test_a_series_whose_model_is_missing_is_not_genuine(monkeypatch):
    from billing.services import verify as verify_module

    monkeypatch.setitem(verify_module.SERIES, "ZZ", ("sales.Nothing", "amount", "Nothing"))
    assert document_verify(number="ZZ-2026-000001", code="AAAAAAAAAA") is None


def test_a_printed_copy_names_a_known_format(credit_sale, head_office):
    with pytest.raises(ValueError, match="unknown printed format"):
        invoice_printed_record(transaction=credit_sale, actor=head_office, format="fax", via="api")


def test_a_long_note_wraps_within_the_page(sample):
    note = "Reason: " + "the customer asked for the sale to be reversed " * 6
    pdf = pdf_module.a4_pdf(replace(sample, notes=(note.strip(),)))
    content = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert content.count("the customer asked") == 6
