"""6. Document rendering: the same tax invoice (3 lines, a meter reading, tax, a QR code)
rendered by each candidate PDF library, on one core, one document after another.

- reportlab (the canvas, as billing.services.pdf draws it: what the app uses);
- fpdf2, drawing the same page;
- xhtml2pdf, from an HTML template (HTML and CSS over reportlab);
- and the thermal copies: ESC/POS bytes (58 and 80 mm) and the 80 mm PDF.

Prints p50 and p95 per document, documents per second, each candidate's p50 against
reportlab's (the baseline) and the SQL statements of one rendering. The candidates are
timed in turn, one document each, round after round (interleaved). Targets: an invoice
PDF's p95 under 100 ms, an ESC/POS receipt under 5 ms. The drawn document is built in
memory (billing.services.layout.Document); a library that is not installed is reported as
such (`pip install fpdf2 xhtml2pdf` to compare them).

On PostgreSQL the app's own calls are timed too, on two sales it posts once through
sale_post: a credit customer's 250th sale and a cash sale (2 cylinder lines and a meter
reading each): invoice_pdf and receipt_escpos, each beside its "(before)" baseline, the
same call with every query compiled by the ORM on each call as before
billing.services.compiled (the sale with its relations, the balance after it, the audit
entry's hash).
"""

import statistics
import time
from collections.abc import Callable
from decimal import Decimal

from bench.render_candidates import fpdf2_pdf, xhtml2pdf_pdf

NAME = "billing_render"


def add_arguments(parser):
    group = parser.add_argument_group(NAME)
    group.add_argument("--render-docs", type=int, default=200, help="documents per renderer (200)")


def invoice():
    from billing.services.layout import Column, Document, Party

    return Document(
        kind="invoice",
        title="TAX INVOICE",
        number="TX-2026-012345",
        date="30 Nov 2026, 10:42",
        seller=Party("HSH Gas Distributors", ("12 Harbour Road", "Colombo 01", "Tax ID: 114-2233")),
        customer=Party("Lanka Bakers Ltd (C0042)", ("45 Temple Street", "Kandy")),
        facts=(
            ("Payment", "Credit"),
            ("Representative", "bench-rep-01-1"),
            ("Meter: last reading", "1,204.00"),
            ("Meter: latest reading", "1,260.50"),
            ("Account balance", "182,450.00"),
        ),
        columns=(
            Column("Product", 0.34),
            Column("Quantity", 0.13, "right"),
            Column("Empties", 0.13, "right"),
            Column("Rate", 0.18, "right"),
            Column("Subtotal", 0.22, "right"),
        ),
        rows=(
            ("12.7 kg cylinder", "4", "4", "3,000.00", "12,000.00"),
            ("9 kg cylinder", "2", "1", "2,200.00", "4,400.00"),
            ("Bulk LPG (meter)", "56.50 kg", "", "250.00", "14,125.00"),
        ),
        items=(
            ("12.7 kg cylinder", "4 x 3,000.00, empties 4", "12,000.00"),
            ("9 kg cylinder", "2 x 2,200.00, empties 1", "4,400.00"),
            ("Bulk LPG: meter 1,204.00 -> 1,260.50", "56.50 x 250.00", "14,125.00"),
        ),
        totals=(
            ("Net", "30,525.00"),
            ("GST 18 %", "5,494.50"),
            ("Deposits (not taxed)", "1,500.00"),
            ("Total", "37,519.50"),
            ("Amount due", "37,519.50"),
        ),
        qr="https://hsh.example.com/verify/TX-2026-012345/OEZWGIKZJE/?total=37519.50",
        code="OEZWGIKZJE",
        footer=("Thank you for your business.",),
    )


def _orm_sale(transaction):
    """The invoice's sale as billing.services.documents read it before
    billing.services.invoice_read: select_related and prefetch_related, compiled on
    every call. The baseline of the "(before)" rows."""
    from django.db.models import Prefetch

    from sales.models import Transaction, TransactionLine

    lines = Prefetch("lines", queryset=TransactionLine.objects.select_related("product"))
    return (
        Transaction.objects.select_related("customer", "sales_rep", "meter_sale__product")
        .prefetch_related(lines)
        .get(pk=transaction.pk)
    )


def _orm_balance_at(*, customer, before, inclusive=False):
    """balance_at as it was: the same query, compiled by the ORM on every call."""
    from billing.services.statements import _BALANCE_QUERIES, CENT

    query = _BALANCE_QUERIES[inclusive].build(customer_id=customer.pk, before=before)
    sold, credited, paid, reversed_, deposits = query.get()
    return Decimal(sold - credited - paid + reversed_ + deposits).quantize(CENT)


def _orm_document_code(document):
    """document_code as it was: the whole audit entry, compiled by the ORM on every call."""
    from billing.services.verify import audit_entry, document_total, verify_code

    entry = audit_entry(document)
    if entry is None:
        return ""
    total = document_total(document)
    return verify_code(number=document.number, total=total, entry_hash=entry.hash)


def _orm_read(render, **kwargs):
    """`render(**kwargs)` with the document read as before billing.services.compiled:
    every query compiled by the ORM on every call (the sale, the balance, the audit
    entry's hash). The baseline of the "(before)" rows."""
    from billing.services import documents

    swapped = {
        "_sale": _orm_sale,
        "balance_at": _orm_balance_at,
        "document_code": _orm_document_code,
    }
    fast = {name: getattr(documents, name) for name in swapped}
    for name, before in swapped.items():
        setattr(documents, name, before)
    try:
        return render(**kwargs)
    finally:
        for name, now in fast.items():
            setattr(documents, name, now)


def _queries(render: Callable[[], bytes]) -> int:
    """The SQL statements one rendering runs."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    reset_queries()  # DEBUG's log keeps 9,000 queries: a full log counts none
    with CaptureQueriesContext(connection) as queries:
        render()
    return len(queries)


def _time_all(renders: list[Callable[[], bytes]], count: int) -> list[dict]:
    """Each render `count` times, one of each in turn (interleaved: a busy machine slows
    them alike), after 5 warm-up renders each (imports, fonts, caches, compiled SQL)."""
    for render in renders:
        for _ in range(5):
            render()
    times: list[list[float]] = [[] for _ in renders]
    sizes = [0 for _ in renders]
    for _ in range(count):
        for index, render in enumerate(renders):
            start = time.perf_counter()
            sizes[index] = len(render())
            times[index].append(time.perf_counter() - start)
    results = []
    for spent, size in zip(times, sizes, strict=True):
        spent.sort()
        results.append(
            {
                "p50_ms": round(statistics.median(spent) * 1000, 2),
                "p95_ms": round(spent[int(len(spent) * 0.95) - 1] * 1000, 2),
                "docs_per_s": round(len(spent) / sum(spent), 1),
                "bytes": size,
            }
        )
    return results


RENDER_HISTORY = 250  # sales on the credit customer's account, as the dataset's have


def _render_sales():
    """(credit sale, cash sale): the newest sale of two customers of the posting
    benchmark's depot, posted through sale_post by its first representative, each of
    2 cylinder lines and a meter reading; the credit customer's account holds
    RENDER_HISTORY such sales (its "balance after this invoice" adds them up). Posted
    once per database; None on a database that is not PostgreSQL."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    from bench import dataset, sale_posting
    from core.models import Depot, User
    from sales.models import Customer, Transaction
    from sales.services import customer_create, rate_set, sale_post
    from stock.models import Product

    sale_posting._setup(1)  # the depot, the representative and the vehicle's stock
    admin, rep = dataset.actors(), User.objects.get(username="bench-poster-0")
    depot = Depot.objects.get(code="BENCHPOST")
    cylinders = [Product.objects.get(code="12.7KG"), Product.objects.get(code="9KG")]
    bulk = Product.objects.get(code="BULK")
    lines = [
        {"product": cylinders[0], "quantity": 4, "empties_returned": 4},
        {"product": cylinders[1], "quantity": 2, "empties_returned": 1},
    ]
    sales = []
    for code, payment_type, count in (
        ("BRCREDIT", "CREDIT", RENDER_HISTORY),
        ("BRCASH", "CASH", 1),
    ):
        customer = Customer.objects.filter(code=code).first()
        if customer is None:
            customer = customer_create(
                code=code,
                name=f"Render bench {payment_type.lower()} customer",
                depot=depot,
                actor=admin,
                payment_type=payment_type,
                address="45 Temple Street\nKandy",
                email=f"bench-{code.lower()}@example.com",
            )
            for product, rate in zip(
                [*cylinders, bulk], ("3000.00", "2200.00", "250.00"), strict=True
            ):
                rate_set(customer=customer, product=product, rate=Decimal(rate), actor=admin)
        posted = Transaction.objects.filter(customer=customer).count()
        for _ in range(count - posted):
            customer.refresh_from_db()
            sale_post(
                customer=customer,
                sales_rep=rep,
                actor=rep,
                lines=lines,
                meter_reading=customer.last_meter_reading + Decimal("56.50"),
            )
        sales.append(Transaction.objects.filter(customer=customer).order_by("-id").first())
    return sales


def run(args):
    from billing.services.escpos import escpos_bytes
    from billing.services.pdf import a4_pdf, roll_pdf

    document = invoice()
    candidates: list[tuple[str, Callable[[], bytes] | None]] = [
        ("reportlab canvas (A4, used)", lambda: a4_pdf(document)),
    ]
    for name, module, render in (
        ("fpdf2 (A4)", "fpdf", fpdf2_pdf),
        ("xhtml2pdf HTML template (A4)", "xhtml2pdf", xhtml2pdf_pdf),
    ):
        try:
            __import__(module)
        except ImportError:
            candidates.append((name, None))
        else:
            candidates.append((name, lambda render=render: render(document)))
    candidates += [
        ("80 mm PDF (reportlab)", lambda: roll_pdf(document, width_mm=80)),
        ("ESC/POS 80 mm", lambda: escpos_bytes(document, width_mm=80)),
        ("ESC/POS 58 mm", lambda: escpos_bytes(document, width_mm=58)),
    ]
    sales = _render_sales()
    if sales is not None:  # the whole call: the sale read from the database, then drawn
        from billing.services import invoice_pdf, receipt_escpos

        credit, cash = sales
        candidates += [
            ("invoice_pdf(transaction), credit sale", lambda: invoice_pdf(transaction=credit)),
            (
                "invoice_pdf, credit sale, sale read by the ORM (before)",
                lambda: _orm_read(invoice_pdf, transaction=credit),
            ),
        ]
        for kind, sale in (("credit", credit), ("cash", cash)):
            candidates += [
                (
                    f"receipt_escpos(transaction) 80 mm, {kind} sale",
                    lambda sale=sale: receipt_escpos(transaction=sale, width_mm=80),
                ),
                (
                    f"receipt_escpos 80 mm, {kind} sale, sale read by the ORM (before)",
                    lambda sale=sale: _orm_read(receipt_escpos, transaction=sale, width_mm=80),
                ),
            ]
    timed = [(name, render) for name, render in candidates if render is not None]
    results = dict(
        zip(
            [name for name, _ in timed],
            _time_all([render for _, render in timed], args.render_docs),
            strict=True,
        )
    )
    rows, baseline = [], None
    for name, render in candidates:
        if render is None:
            rows.append({"renderer": repr(name), "result": "not installed"})
            continue
        result = results[name]
        if baseline is None:
            baseline = result["p50_ms"]
        rows.append(
            {
                "renderer": repr(name),
                **result,
                "queries": _queries(render),
                "p50_vs_reportlab": round(result["p50_ms"] / baseline, 2),
            }
        )
    return rows
