"""PDF renderings with reportlab's canvas: an A4 page (invoice, credit note, receipt) and
an 80 mm roll (the thermal copy as a PDF). reportlab was chosen by measurement
(BENCHMARKS.md, "Document rendering"); the look comes from templates/billing/style.json."""

import io
from pathlib import Path

import segno
from django.conf import settings
from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from billing.services.escpos import thermal_lines
from billing.services.layout import Document, document_style

MARGIN = 18 * mm


def qr_draw(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """The QR code of `data` as vector squares, `size` points wide, its lower left at x, y
    (one rectangle per run of dark modules: small and quick)."""
    matrix = segno.make(data, error="m").matrix
    border = 2
    count = len(matrix) + 2 * border
    module = size / count
    canvas.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(matrix):
        top = y + size - (r + border + 1) * module
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                canvas.rect(
                    x + (start + border) * module,
                    top,
                    (c - start) * module,
                    module,
                    stroke=0,
                    fill=1,
                )
            c += 1


def logo_draw(canvas: Canvas, name: str, x: float, top: float) -> float:
    """Draw the style's logo (a PNG or JPEG under templates/billing/) 14 mm high; its width."""
    path = Path(settings.BASE_DIR) / "templates" / "billing" / name
    if not name or not path.is_file():
        return 0.0
    canvas.drawImage(
        str(path),
        x,
        top - 14 * mm,
        height=14 * mm,
        width=40 * mm,
        preserveAspectRatio=True,
        anchor="sw",
        mask="auto",
    )
    return 42 * mm


def heading_draw(canvas: Canvas, document: Document) -> float:
    """The top of a document's first page: the logo and seller (left), the title, number
    and date (right), then the customer (left) and the facts (right). Returns the height
    below them where the page goes on."""
    style = document_style()
    font, bold, size = style["font"], style["font_bold"], float(style["font_size"])
    accent = HexColor(style["accent"])
    width, height = A4
    left, right = MARGIN, width - MARGIN
    top = height - MARGIN

    # Seller (left, after the logo) and the title block (right).
    x = left + logo_draw(canvas, str(style.get("logo") or ""), left, top)
    canvas.setFont(bold, size + 4)
    canvas.drawString(x, top - 12, document.seller.name)
    canvas.setFont(font, size)
    y = top - 12
    for text in document.seller.lines:
        y -= size + 3
        canvas.drawString(x, y, text)
    canvas.setFillColor(accent)
    canvas.setFont(bold, size + 9)
    canvas.drawRightString(right, top - 14, document.title)
    canvas.setFillColorRGB(0, 0, 0)
    canvas.setFont(bold, size + 2)
    canvas.drawRightString(right, top - 32, document.number)
    canvas.setFont(font, size)
    canvas.drawRightString(right, top - 46, document.date)

    # Customer and facts.
    y = min(y, top - 46) - 28
    canvas.setFont(bold, size)
    canvas.drawString(left, y, "Customer")
    canvas.setFont(font, size)
    for text in (document.customer.name, *document.customer.lines):
        y -= size + 3
        canvas.drawString(left, y, text)
    fy = y + (size + 3) * (len(document.customer.lines) + 1)
    for label, value in document.facts:
        canvas.setFont(font, size)
        canvas.drawString(width / 2 + 10, fy, label)
        canvas.drawRightString(right, fy, value)
        fy -= size + 3
    y = min(y, fy) - 22
    return y


def a4_pdf(document: Document) -> bytes:
    """The document on A4 pages: seller and title, customer, facts, the table (continued
    on further pages when long), totals, notes and the QR code with its verify code."""
    style = document_style()
    font, bold, size = style["font"], style["font_bold"], float(style["font_size"])
    accent = HexColor(style["accent"])
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"{document.title} {document.number}")
    canvas.setAuthor(document.seller.name)
    width, height = A4
    left, right = MARGIN, width - MARGIN
    y = heading_draw(canvas, document)

    # The table.
    total_width = right - left
    if document.columns:
        y = table_header_draw(canvas, document, left, y, total_width, bold, size, accent)
        canvas.setFont(font, size)
        for row in document.rows:
            if y < MARGIN + 160:
                canvas.showPage()
                y = table_header_draw(
                    canvas, document, left, height - MARGIN, total_width, bold, size, accent
                )
                canvas.setFont(font, size)
            table_row_draw(canvas, document, row, left, y, total_width)
            y -= size + 8
        canvas.setStrokeColor(accent)
        canvas.line(left, y + size + 3, right, y + size + 3)

    # Totals, the last one bold.
    y -= 8
    for index, (label, amount) in enumerate(document.totals):
        last = index == len(document.totals) - 1
        canvas.setFont(bold if last else font, size + (2 if last else 0))
        canvas.drawString(width / 2 + 10, y, label)
        canvas.drawRightString(right, y, amount)
        y -= size + (10 if last else 5)

    # Notes, then the QR code with its code, and the footer.
    canvas.setFont(font, size)
    for note in document.notes:
        for part in simpleSplit(note, font, size, right - left):
            y -= size + 3
            canvas.drawString(left, y, part)
    if document.qr:
        qr_size = 30 * mm
        qr_draw(canvas, document.qr, left, MARGIN + 14, qr_size)
        canvas.setFont(font, size - 1)
        canvas.drawString(left + qr_size + 6, MARGIN + 14 + qr_size - 12, "Check this document at")
        canvas.drawString(left + qr_size + 6, MARGIN + 14 + qr_size - 24, document.qr)
        canvas.setFont(bold, size)
        canvas.drawString(left + qr_size + 6, MARGIN + 14 + qr_size - 38, f"Code {document.code}")
    canvas.setFont(font, size - 1)
    canvas.setFillColor(accent)
    for index, text in enumerate(document.footer):
        canvas.drawCentredString(width / 2, MARGIN - index * (size + 2), text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def table_header_draw(
    canvas: Canvas,
    document: Document,
    left: float,
    y: float,
    total_width: float,
    bold: str,
    size: float,
    accent: Color,
) -> float:
    canvas.setFillColor(accent)
    canvas.rect(left, y - 4, total_width, size + 8, stroke=0, fill=1)
    canvas.setFillColor(white)
    canvas.setFont(bold, size)
    table_row_draw(canvas, document, tuple(c.title for c in document.columns), left, y, total_width)
    canvas.setFillColorRGB(0, 0, 0)
    return y - size - 10


def table_row_draw(
    canvas: Canvas,
    document: Document,
    row: tuple[str, ...],
    left: float,
    y: float,
    total_width: float,
) -> None:
    x = left
    for column, text in zip(document.columns, row, strict=False):
        cell = column.width * total_width
        if column.align == "right":
            canvas.drawRightString(x + cell - 4, y, text)
        else:
            canvas.drawString(x + 4, y, text)
        x += cell


def roll_pdf(document: Document, *, width_mm: int = 80) -> bytes:
    """The thermal copy as a PDF page as wide as the roll (80 mm: 48 columns of Courier),
    as long as its lines: the same lines the ESC/POS copy prints."""
    columns = 48 if width_mm == 80 else 32
    lines = thermal_lines(document, columns)
    page_width = width_mm * mm
    size = (page_width - 8 * mm) / columns / 0.6  # Courier is 0.6 em wide
    leading = size * 1.25
    qr_size = 34 * mm
    length = 10 * mm + sum(
        qr_size if s == "qr" else leading * (2 if s == "h" else 1) for _, s in lines
    )
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(page_width, length), pageCompression=1)
    canvas.setTitle(f"{document.title} {document.number}")
    y = length - 5 * mm
    for text, style in lines:
        if style == "qr":
            qr_draw(canvas, text, (page_width - qr_size) / 2, y - qr_size + leading, qr_size)
            y -= qr_size
            continue
        if style == "h":
            canvas.setFont("Courier-Bold", size * 2)
            y -= leading
            canvas.drawCentredString(page_width / 2, y, text)
            y -= leading
            continue
        canvas.setFont("Courier-Bold" if "b" in style else "Courier", size)
        if "c" in style:
            canvas.drawCentredString(page_width / 2, y, text)
        else:
            canvas.drawString(4 * mm, y, text)
        y -= leading
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
