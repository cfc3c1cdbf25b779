"""A customer's statement of account as an A4 PDF, drawn in the invoice's look (the
seller's heading, accent colour, fonts, logo and footer of templates/billing/style.json),
so a clerk re-brands every document in one place. A long statement goes on over further
pages, each with a short heading and the table's column titles again; the totals, the
closing balance and the ageing follow the last line. A statement carries no QR code: it
is a summary of documents that each carry their own."""

import io
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal

from django.utils import timezone
from django.utils.formats import date_format
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from billing.models import CustomerStatement
from billing.services.layout import (
    Column,
    Document,
    customer_party,
    document_style,
    money,
    seller_party,
)
from billing.services.pdf import MARGIN, heading_draw, table_header_draw, table_row_draw
from billing.services.statements import Statement, statement_build

ENTRY_COLUMNS = (
    Column("Date", 0.16),
    Column("Document", 0.36),
    Column("Debit", 0.16, "right"),
    Column("Credit", 0.16, "right"),
    Column("Balance", 0.16, "right"),
)
AGEING_COLUMNS = (
    Column("Current (0-30 days)", 0.2, "right"),
    Column("31-60 days", 0.2, "right"),
    Column("61-90 days", 0.2, "right"),
    Column("Over 90 days", 0.2, "right"),
    Column("Total unpaid", 0.2, "right"),
)
CONTINUED_HEADING = 48.0  # the height of a continuation page's heading


def day_text(day: date) -> str:
    """A day as people read it: 30 Nov 2026."""
    return date_format(day, "j M Y")


def balance_text(amount: Decimal) -> str:
    """A running balance: what is owed, or what is held in the customer's favour ("CR")."""
    return money(amount) if amount >= 0 else f"{money(-amount)} CR"


def closing_label(amount: Decimal) -> tuple[str, str]:
    """The closing balance as the customer reads it: ("Amount due", ...) or ("In credit", ...)."""
    return ("Amount due", money(amount)) if amount >= 0 else ("In credit", money(-amount))


def statement_document(*, statement: Statement, number: str = "") -> Document:
    """What the statement says, in the documents' one shape (billing.services.layout)."""
    style = document_style()
    period = f"{day_text(statement.date_from)} to {day_text(statement.date_to)}"
    label, closing = closing_label(statement.closing_balance)
    rows = [
        (
            day_text(statement.date_from),
            "Balance brought forward",
            "",
            "",
            balance_text(statement.opening_balance),
        )
    ]
    rows += [
        (
            day_text(entry.date),
            f"{entry.label} {entry.number}",
            money(entry.debit) if entry.debit else "",
            money(entry.credit) if entry.credit else "",
            balance_text(entry.balance),
        )
        for entry in statement.entries
    ]
    return Document(
        kind="statement",
        title=str(style["titles"].get("statement", "STATEMENT OF ACCOUNT")),
        number=number,
        date=f"Issued {day_text(timezone.localdate(statement.generated_at))}",
        seller=seller_party(),
        customer=customer_party(statement.customer),
        facts=(
            ("Period", period),
            ("Balance brought forward", balance_text(statement.opening_balance)),
            (label, closing),
        ),
        columns=ENTRY_COLUMNS,
        rows=tuple(rows),
        totals=(
            ("Total charged", money(statement.total_debits)),
            ("Total credited", money(statement.total_credits)),
            (label, closing),
        ),
        notes=() if statement.entries else ("No documents in this period.",),
        footer=tuple(style["footer"]),
    )


class _Pages:
    """The canvas and where the next line goes; starts a new page when one is full."""

    def __init__(self, canvas: Canvas, document: Document) -> None:
        style = document_style()
        self.canvas = canvas
        self.document = document
        self.font, self.bold = str(style["font"]), str(style["font_bold"])
        self.size = float(style["font_size"])
        self.accent: Color = HexColor(style["accent"])
        self.width, self.height = A4
        self.left, self.right = MARGIN, self.width - MARGIN
        self.page = 1
        self.y = heading_draw(canvas, document)

    @property
    def table_width(self) -> float:
        return self.right - self.left

    def room(self, needed: float) -> bool:
        """Whether `needed` points still fit above the footer; if not, a new page."""
        if self.y - needed >= MARGIN + 24:
            return True
        self.page_end()
        self.canvas.showPage()
        self.page += 1
        self.y = self.height - MARGIN
        self.canvas.setFont(self.bold, self.size + 2)
        self.canvas.drawString(self.left, self.y - 10, self.document.customer.name)
        self.canvas.setFillColor(self.accent)
        heading = f"{self.document.title} (continued)"
        self.canvas.drawRightString(self.right, self.y - 10, heading)
        self.canvas.setFillColorRGB(0, 0, 0)
        self.canvas.setFont(self.font, self.size)
        period = ", ".join(
            part for part in (self.document.number, self.document.facts[0][1]) if part
        )
        self.canvas.drawRightString(self.right, self.y - 10 - self.size - 5, period)
        self.y -= CONTINUED_HEADING
        return False

    def page_end(self) -> None:
        """The footer lines and the page number."""
        canvas, size = self.canvas, self.size
        canvas.setFont(self.font, size - 1)
        canvas.setFillColor(self.accent)
        for index, text in enumerate(self.document.footer):
            canvas.drawCentredString(self.width / 2, MARGIN - index * (size + 2), text)
        canvas.drawRightString(self.right, MARGIN - 2 * (size + 2), f"Page {self.page}")
        canvas.setFillColorRGB(0, 0, 0)

    def table(self, document: Document, rows: Sequence[tuple[str, ...]]) -> None:
        """`document`'s columns and `rows`, the column titles again on every new page."""
        line = self.size + 8
        self.room(2 * line)
        self.y = self._header(document)
        for row in rows:
            if not self.room(line):
                self.y = self._header(document)
            self.canvas.setFont(self.font, self.size)
            table_row_draw(self.canvas, document, row, self.left, self.y, self.table_width)
            self.y -= line
        self.canvas.setStrokeColor(self.accent)
        top = self.y + self.size + 3
        self.canvas.line(self.left, top, self.right, top)

    def _header(self, document: Document) -> float:
        return table_header_draw(
            self.canvas,
            document,
            self.left,
            self.y,
            self.table_width,
            self.bold,
            self.size,
            self.accent,
        )

    def lines(self, pairs: Sequence[tuple[str, str]], *, last_bold: bool = True) -> None:
        """Label and amount pairs on the right half; the last one bold."""
        canvas, size = self.canvas, self.size
        for index, (label, amount) in enumerate(pairs):
            last = last_bold and index == len(pairs) - 1
            self.room(size + 10)
            canvas.setFont(self.bold if last else self.font, size + (2 if last else 0))
            canvas.drawString(self.width / 2 + 10, self.y, label)
            canvas.drawRightString(self.right, self.y, amount)
            self.y -= size + (10 if last else 5)

    def text(self, text: str, *, bold: bool = False) -> None:
        self.room(self.size + 6)
        self.canvas.setFont(self.bold if bold else self.font, self.size)
        self.canvas.drawString(self.left, self.y, text)
        self.y -= self.size + 6


def statement_pdf(*, statement: Statement, number: str = "") -> bytes:
    """The statement on A4 pages: heading, customer and period, the entries from the
    balance brought forward with a running balance (continued over pages, column titles
    repeated), totals, the closing balance ("Amount due" or "In credit") and the ageing
    of what is unpaid. `number`: the issued statement's reference (ST-...), if any."""
    document = statement_document(statement=statement, number=number)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"{document.title} {document.customer.name} {document.facts[0][1]}")
    canvas.setAuthor(document.seller.name)
    pages = _Pages(canvas, document)
    pages.table(document, document.rows)
    pages.y -= 8
    pages.lines(document.totals)
    for note in document.notes:
        pages.text(note)
    ageing = statement.ageing
    ageing_document = Document(
        kind="statement",
        title=document.title,
        number=number,
        date=document.date,
        seller=document.seller,
        customer=document.customer,
        columns=AGEING_COLUMNS,
    )
    pages.room(4 * (pages.size + 8) + 20)
    pages.y -= 12
    pages.text("Ageing of what is unpaid, at the end of the period", bold=True)
    pages.y -= 4
    pages.table(ageing_document, [tuple(money(a) for a in (*ageing, ageing.total))])
    pages.page_end()
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def issued_statement_pdf(*, issued: CustomerStatement) -> bytes:
    """An issued statement's PDF, with its number and issue date: built again from the
    documents of its period (which never change), so it reads as when it was issued."""
    built = statement_build(
        customer=issued.customer,
        date_from=issued.date_from,
        date_to=issued.date_to,
        until=issued.created_at,
    )
    return statement_pdf(
        statement=replace(built, generated_at=issued.created_at), number=issued.number
    )
