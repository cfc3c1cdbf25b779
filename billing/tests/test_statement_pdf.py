"""statement_pdf: a customer's statement as an A4 PDF in the documents' look (read back
with pypdf): seller, customer, period, balance brought forward, every entry with its
running balance, totals, the closing balance and the ageing; long statements go on over
pages with the column titles again. And the statement's e-mail: the outbox renders a
billing.CustomerStatement message's PDF and sends it."""

import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone
from pypdf import PdfReader

from billing.services import document_pdf, outbox_send, statement_build, statement_pdf
from billing.services.statement_issue import statement_issue
from billing.services.statements import INVOICE, PAYMENT, Ageing, Statement, StatementEntry
from billing.tests.posting_clock import moment
from core.models import OutboxKind, OutboxMessage

pytestmark = pytest.mark.django_db
pytest_plugins = ["billing.tests.statement_fixtures"]

COMPANY = {
    "COMPANY_NAME": "Harbour Gas Ltd",
    "COMPANY_ADDRESS": "1 Quay Street\nPort Town",
    "COMPANY_TAX_ID": "TIN-998877",
    "CURRENCY": "LKR",
}


def pages(pdf: bytes) -> list[str]:
    assert pdf.startswith(b"%PDF")
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


@override_settings(**COMPANY)
def test_the_statement_shows_its_period_entries_balances_and_ageing(ledger):
    first = ledger.sale(moment(45), quantity=2)  # 6,000.00, 45 days old
    ledger.sale(moment(10))  # 3,000.00
    paid = ledger.pay("2000.00", moment(5))
    statement = statement_build(
        customer=ledger.customer,
        date_from=timezone.localdate() - timedelta(days=20),
        date_to=timezone.localdate(),
    )
    [content] = pages(statement_pdf(statement=statement, number="ST-00000007"))
    for expected in (
        "STATEMENT OF ACCOUNT",
        "ST-00000007",
        "Harbour Gas Ltd",
        "Tax ID: TIN-998877",
        "Harbour Hotel (S001)",
        "12 Harbour Road",
        f"{statement.date_from:%-d %b %Y} to {statement.date_to:%-d %b %Y}",
        "Balance brought forward",
        "LKR 6,000.00",  # the opening balance: the sale before the period
        f"{moment(10):%-d %b %Y}",
        "Payment received " + paid.number,
        "LKR 2,000.00",
        "LKR 9,000.00",  # the running balance after the second sale
        "LKR 7,000.00",  # closing
        "Amount due",
        "Total charged",
        "Total credited",
        "Current (0-30 days)",
        "31-60 days",
        "LKR 4,000.00",  # ageing: 7,000 owed, the newest invoice (3,000) current
    ):
        assert expected in content, expected
    assert first.number not in content  # before the period: only in the balance brought forward
    assert re.search(r"Amount due\s*LKR 7,000\.00", content)


@override_settings(**COMPANY)
def test_a_customer_in_credit_reads_in_credit(ledger):
    ledger.pay("500.00", moment(3))
    today = timezone.localdate()
    statement = statement_build(customer=ledger.customer, date_from=today, date_to=today)
    [content] = pages(statement_pdf(statement=statement))
    assert re.search(r"In credit\s*LKR 500\.00", content)
    assert "Amount due" not in content
    assert "LKR 500.00 CR" in content  # the balance brought forward, in the customer's favour
    assert "No documents in this period." in content


def test_a_long_statement_goes_on_over_pages_with_the_column_titles_again(account):
    day = date(2026, 1, 1)
    entries = [
        StatementEntry(
            day, INVOICE, f"TX-2026-{n:06d}", Decimal("100.00"), Decimal("0"), Decimal(n)
        )
        for n in range(1, 121)
    ]
    entries.append(
        StatementEntry(day, PAYMENT, "PAY-2026-000001", Decimal(0), Decimal(5), Decimal(115))
    )
    statement = Statement(
        customer=account,
        date_from=day,
        date_to=day + timedelta(days=30),
        opening_balance=Decimal("0.00"),
        closing_balance=Decimal("115.00"),
        entries=entries,
        ageing=Ageing(Decimal("115.00"), Decimal(0), Decimal(0), Decimal(0)),
    )
    texts = pages(statement_pdf(statement=statement))
    assert len(texts) >= 3
    for n, text in enumerate(texts, start=1):
        assert "Debit" in text  # the table's titles on every page
        assert f"Page {n}" in text
    assert all("(continued)" in text for text in texts[1:])
    everything = "\n".join(texts)
    assert all(f"TX-2026-{n:06d}" in everything for n in (1, 60, 120))
    assert "PAY-2026-000001" in everything
    assert "Over 90 days" in texts[-1]  # the ageing after the last line
    assert "TX-2026-000120" not in texts[0]


def test_the_statement_takes_the_clerks_title_from_the_style(ledger, settings, tmp_path):
    """A style.json that names only some titles keeps the statement's default one."""
    import json

    from billing.services import layout

    style = tmp_path / "style.json"
    style.write_text(json.dumps({"titles": {"invoice": "INVOICE"}, "accent": "#aa0000"}))
    layout.document_style.cache_clear()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(layout, "STYLE_FILE", style)
            layout.document_style.cache_clear()
            assert layout.document_style()["titles"]["statement"] == "STATEMENT OF ACCOUNT"
            assert layout.document_style()["titles"]["invoice"] == "INVOICE"
            today = timezone.localdate()
            built = statement_build(customer=ledger.customer, date_from=today, date_to=today)
            [content] = pages(statement_pdf(statement=built))
            assert "STATEMENT OF ACCOUNT" in content
    finally:
        layout.document_style.cache_clear()


@override_settings(**COMPANY)
def test_an_issued_statement_is_e_mailed_with_its_pdf(ledger, head_office, recording):
    sale = ledger.sale(moment(3))
    today = timezone.localdate()
    issued = statement_issue(
        customer=ledger.customer,
        date_from=today - timedelta(days=30),
        date_to=today,
        actor=head_office,
    )
    message = OutboxMessage.objects.get(kind=OutboxKind.STATEMENT)
    assert (message.number, message.to) == (issued.number, "accounts@harbour.example")

    filename, content = document_pdf(message)
    assert filename == f"{issued.number}.pdf"
    [text] = pages(content)
    assert issued.number in text
    assert sale.number in text
    assert f"Issued {timezone.localtime(issued.created_at):%-d %b %Y}" in text

    assert outbox_send() == 2  # the sale's invoice, then the statement
    [email] = [e for e in recording if e.subject.startswith("Statement")]
    assert email.to == ["accounts@harbour.example"]
    assert issued.number in email.subject
    assert "Statement of account" in email.subject
    assert "Harbour Hotel" in email.body
    assert "Amount due: LKR 3,000.00" in email.body
    assert "Balance brought forward: LKR 0.00" in email.body
    [(name, attached, mimetype)] = email.attachments
    assert (name, mimetype) == (f"{issued.number}.pdf", "application/pdf")
    assert sale.number in pages(attached)[0]


def test_the_e_mailed_pdf_is_built_again_from_the_period_only(ledger, head_office):
    """A sale after the statement's period never shows on it, however late it is sent."""
    ledger.sale(moment(40))
    today = timezone.localdate()
    statement_issue(
        customer=ledger.customer,
        date_from=today - timedelta(days=60),
        date_to=today - timedelta(days=20),
        actor=head_office,
    )
    later = ledger.sale(moment(2))
    message = OutboxMessage.objects.get(kind=OutboxKind.STATEMENT)
    [text] = pages(document_pdf(message)[1])
    assert later.number not in text
    assert re.search(r"Amount due\s*3,000\.00", text)


def test_a_statement_issued_to_today_reads_the_same_after_later_postings_that_day(
    ledger, head_office
):
    """Issued during its last day: a sale posted after the issue, the same day, stays off
    the e-mailed PDF, whose closing balance is the one recorded (review finding)."""
    ledger.sale(moment(3))
    today = timezone.localdate()
    issued = statement_issue(
        customer=ledger.customer,
        date_from=today - timedelta(days=30),
        date_to=today,
        actor=head_office,
    )
    later = ledger.sale(timezone.now())
    message = OutboxMessage.objects.get(kind=OutboxKind.STATEMENT)
    [text] = pages(document_pdf(message)[1])
    assert later.number not in text
    assert issued.closing_balance == Decimal("3000.00")
    assert re.search(r"Amount due\s*3,000\.00", text)
