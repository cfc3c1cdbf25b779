"""The candidate PDF libraries of bench.billing_render (not used by the app): fpdf2 and
xhtml2pdf drawing the same invoice as billing.services.pdf, to compare them with reportlab."""

import base64
import io


def fpdf2_pdf(document) -> bytes:
    """The same A4 page drawn with fpdf2."""
    import segno
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="pt")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    width, margin = 595.27, 51.0
    right = width - margin
    pdf.set_font("Helvetica", "B", 13)
    pdf.text(margin, 63, document.seller.name)
    pdf.set_font("Helvetica", "", 9)
    y = 63
    for text in document.seller.lines:
        y += 12
        pdf.text(margin, y, text)
    pdf.set_text_color(31, 78, 121)
    pdf.set_font("Helvetica", "B", 18)
    pdf.text(right - pdf.get_string_width(document.title), 65, document.title)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("Helvetica", "B", 11)
    pdf.text(right - pdf.get_string_width(document.number), 83, document.number)
    pdf.set_font("Helvetica", "", 9)
    pdf.text(right - pdf.get_string_width(document.date), 97, document.date)
    y = 140
    pdf.set_font("Helvetica", "B", 9)
    pdf.text(margin, y, "Customer")
    pdf.set_font("Helvetica", "", 9)
    for text in (document.customer.name, *document.customer.lines):
        y += 12
        pdf.text(margin, y, text)
    fy = 140
    for label, value in document.facts:
        pdf.text(width / 2 + 10, fy, label)
        pdf.text(right - pdf.get_string_width(value), fy, value)
        fy += 12
    y = max(y, fy) + 22
    total = right - margin
    pdf.set_fill_color(31, 78, 121)
    pdf.rect(margin, y - 13, total, 17, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_font("Helvetica", "B", 9)
    rows = [tuple(c.title for c in document.columns), *document.rows]
    for index, row in enumerate(rows):
        if index == 1:
            pdf.set_text_color(0, 0, 0)
            pdf.set_font("Helvetica", "", 9)
        x = margin
        for column, text in zip(document.columns, row, strict=False):
            cell = column.width * total
            tx = x + cell - 4 - pdf.get_string_width(text) if column.align == "right" else x + 4
            pdf.text(tx, y, text)
            x += cell
        y += 17
    y += 8
    for label, amount in document.totals:
        pdf.text(width / 2 + 10, y, label)
        pdf.text(right - pdf.get_string_width(amount), y, amount)
        y += 14
    matrix = segno.make(document.qr, error="m").matrix
    module = 85.0 / (len(matrix) + 4)
    top = 842 - margin - 99
    pdf.set_fill_color(0, 0, 0)
    for r, line in enumerate(matrix):
        c = 0
        while c < len(line):
            if line[c]:
                start = c
                while c < len(line) and line[c]:
                    c += 1
                pdf.rect(
                    margin + (start + 2) * module,
                    top + (r + 2) * module,
                    (c - start) * module,
                    module,
                    style="F",
                )
            c += 1
    pdf.text(margin + 91, top + 12, f"Code {document.code}")
    return bytes(pdf.output())


HTML = """<html><head><style>
@page { size: a4; margin: 18mm; }
body { font-family: Helvetica; font-size: 9pt; }
h1 { color: #1f4e79; font-size: 18pt; text-align: right; margin: 0; }
table.lines { width: 100%; }
table.lines th { background-color: #1f4e79; color: white; padding: 3pt; }
td.r, th.r { text-align: right; }
</style></head><body>
<table><tr><td><b style="font-size:13pt">{{ d.seller.name }}</b><br>
{% for l in d.seller.lines %}{{ l }}<br>{% endfor %}</td>
<td><h1>{{ d.title }}</h1><p style="text-align:right"><b>{{ d.number }}</b><br>{{ d.date }}</p></td></tr></table>
<table><tr><td><b>Customer</b><br>{{ d.customer.name }}<br>
{% for l in d.customer.lines %}{{ l }}<br>{% endfor %}</td>
<td><table>{% for label, value in d.facts %}<tr><td>{{ label }}</td><td class="r">{{ value }}</td></tr>{% endfor %}</table></td></tr></table>
<table class="lines"><tr>{% for c in d.columns %}<th class="{% if c.align == 'right' %}r{% endif %}">{{ c.title }}</th>{% endfor %}</tr>
{% for row in d.rows %}<tr>{% for cell in row %}<td class="{% if not forloop.first %}r{% endif %}">{{ cell }}</td>{% endfor %}</tr>{% endfor %}
</table>
<table style="width:50%; margin-left:50%">{% for label, amount in d.totals %}<tr><td>{{ label }}</td><td class="r">{{ amount }}</td></tr>{% endfor %}</table>
<p><img src="{{ qr }}" width="85" height="85"> Code {{ d.code }}</p>
</body></html>"""  # noqa: E501 - the template as a clerk would write it


def xhtml2pdf_pdf(document) -> bytes:
    """The same invoice from an HTML template (Django's template engine) by xhtml2pdf."""
    import segno
    from django.template import Context, Template
    from xhtml2pdf import pisa

    qr = (
        "data:image/png;base64,"
        + base64.b64encode(_png(segno.make(document.qr, error="m"))).decode()
    )
    html = Template(HTML).render(Context({"d": document, "qr": qr}))
    out = io.BytesIO()
    pisa.CreatePDF(html, dest=out)
    return out.getvalue()


def _png(qr) -> bytes:
    out = io.BytesIO()
    qr.save(out, kind="png", scale=3)
    return out.getvalue()
