"""The dashboard's figures: each a few grouped SQL queries over indexed columns, never
a query per row. Every function takes the checked Period and returns plain data (text,
numbers, dates, links) that the cache keeps and the page formats.

Sales are dated by when they happened (occurred_at, indexed alone and with the depot);
receivables are the unpaid credit sales (a partial index); stock, cylinders held, low
stock and sync refusals are as they stand now.
"""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import BooleanField, Count, DecimalField, ExpressionWrapper, F, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncDate

from core import display
from reporting.dashboard_period import Period, Window, months_back, start_of
from sales.delivery_status import INVOICE_FILTERS
from sales.models import Customer, PaymentType, Transaction, TransactionStatus

MONEY = DecimalField(max_digits=14, decimal_places=2)
ZERO = Value(Decimal("0"), output_field=MONEY)
POSTED = Q(status=TransactionStatus.POSTED)
DUE = F("total_amount") - F("amount_paid")
TREND_MONTHS = 13


def _sum(field, condition) -> Coalesce:
    return Coalesce(Sum(field, filter=condition), ZERO)


def _during(window: Window) -> Q:
    start, end = window.bounds
    return Q(occurred_at__gte=start, occurred_at__lt=end)


def _daily(period: Period, first: date) -> list[dict]:
    """The sales from `first` to the range's last day, summed per day (business time
    zone), status, payment type and payment state: one pass over the occurred_at index,
    a few thousand rows back at most, whatever the number of sales."""
    start, end = start_of(first), start_of(period.date_to + timedelta(days=1))
    part = ExpressionWrapper(Q(amount_paid__gt=0), output_field=BooleanField())
    return list(
        period.scoped(Transaction.objects.filter(occurred_at__gte=start, occurred_at__lt=end))
        .annotate(day=TruncDate("occurred_at"), part=part)
        .values("day", "status", "payment_type", "is_paid", "part")
        .annotate(
            n=Count("pk"), amount=Sum("total_amount"), due=Sum(F("total_amount") - F("amount_paid"))
        )
        .order_by()
    )


def _state(row: dict) -> str | None:
    """The payment state a day's row counts under (as the sales list filters them)."""
    if row["status"] == TransactionStatus.VOID:
        return "void"
    if row["is_paid"]:
        return "paid"
    if row["payment_type"] == PaymentType.CREDIT:
        return "part" if row["part"] else "unpaid"
    return None


def sales(period: Period) -> dict:
    """One query (see _daily): count and amount of the posted sales today, this month,
    this year and in the chosen range, each against the same days a year before; cash
    against credit and the payment state of the range's sales; the 13-month trend."""
    windows = [w for window in period.windows for w in (window, window.before)]
    rng = period.range
    earliest = months_back(period.date_to, TREND_MONTHS - 1 + 12)
    daily = _daily(period, min([earliest, *(w.first for w in windows)]))
    row: dict = defaultdict(lambda: Decimal(0))
    by_month: dict = defaultdict(lambda: [0, Decimal(0)])
    for r in daily:
        day, n, amount = r["day"], r["n"], r["amount"] or Decimal(0)
        in_range = rng.first <= day <= rng.last
        if in_range and (state := _state(r)):
            row[f"{state}_n"] += n
            row[f"{state}_amount"] += amount
            row[f"{state}_due"] += r["due"] or Decimal(0)
        if r["status"] != TransactionStatus.POSTED:
            continue
        by_month[(day.year, day.month)][0] += n
        by_month[(day.year, day.month)][1] += amount
        for w in windows:
            if w.first <= day <= w.last:
                row[f"{w.key}_n"] += n
                row[f"{w.key}_amount"] += amount
        if in_range:
            kind = "cash" if r["payment_type"] == PaymentType.CASH else "credit"
            row[f"{kind}_n"] += n
            row[f"{kind}_amount"] += amount
    for key in list(row):
        if key.endswith("_n"):
            row[key] = int(row[key])
    states = ("paid", "part", "unpaid", "void")

    figures = []
    for window in period.windows:
        before = window.before
        figures.append(
            {
                "label": window.label,
                "count": row[f"{window.key}_n"],
                "amount": row[f"{window.key}_amount"],
                "count_before": row[f"{before.key}_n"],
                "amount_before": row[f"{before.key}_amount"],
                "change": _change(row[f"{window.key}_amount"], row[f"{before.key}_amount"]),
                "link": period.report("sales-register", dates=window),
                "link_before": period.report("sales-register", dates=before),
                "days": f"{display.day(window.first)} to {display.day(window.last)}",
            }
        )
    kinds = [
        {
            "label": label,
            "count": row[f"{key}_n"],
            "amount": row[f"{key}_amount"],
            "link": period.report("sales-register", dates=period.range, payment_type=value),
        }
        for key, label, value in (
            ("cash", "Cash", PaymentType.CASH),
            ("credit", "Credit", PaymentType.CREDIT),
        )
    ]
    status_links = {
        "paid": {"unpaid": "paid"},
        "part": {"unpaid": "part"},
        "unpaid": {"unpaid": "1", "amount_paid": "0"},
        "void": {"invoice": "void"},
    }
    labels = {
        "paid": "Paid",
        "part": "Part paid",
        "unpaid": "Unpaid (credit)",
        "void": "Void",
    }
    payment = [
        {
            "label": labels[key],
            "count": row[f"{key}_n"],
            "amount": row[f"{key}_amount"],
            "due": row[f"{key}_due"] if key in ("part", "unpaid") else None,
            "link": period.changelist("sales_transaction", dates=period.range, **status_links[key]),
        }
        for key in states
    ]
    return {
        "periods": figures,
        "kinds": kinds,
        "payment": payment,
        "months": _months(period, by_month),
    }


def _change(now: Decimal, before: Decimal) -> str:
    """ "+12.5%" against a year before; "" when there was nothing then."""
    if not before:
        return ""
    percent = (Decimal(now) - Decimal(before)) * 100 / Decimal(before)
    return f"{'+' if percent >= 0 else ''}{display.amount(percent, 1)}%"


def _months(period: Period, by_month: dict) -> list[dict]:
    """The 13 months up to the range's last day, each against the same month a year
    before (the last month counts up to that day)."""
    last = period.date_to
    first = months_back(last, TREND_MONTHS - 1)
    months = []
    for i in range(TREND_MONTHS):
        day = months_back(first, -i)
        next_month = months_back(day, -1)
        n, amount = by_month.get((day.year, day.month), (0, Decimal(0)))
        _, before = by_month.get((day.year - 1, day.month), (0, Decimal(0)))
        months.append(
            {
                "label": f"{day:%b %Y}",
                "count": n,
                "amount": amount,
                "amount_before": before,
                "link": period.report(
                    "sales-register",
                    dates=Window("m", "", day, min(next_month - timedelta(days=1), last)),
                ),
            }
        )
    return months


def top_customers(period: Period) -> dict:
    """The ten customers who bought most in the range (posted sales, by amount)."""
    rows = (
        period.scoped(Transaction.objects.filter(POSTED & _during(period.range)))
        .values("customer_id")
        .annotate(amount=Sum("total_amount"), n=Count("pk"))
        .order_by("-amount", "customer_id")[:10]
    )
    rows = list(rows)
    chosen = Customer.objects.filter(pk__in=[r["customer_id"] for r in rows])
    names = {c.pk: c for c in chosen.only("code", "name")}
    return {
        "rows": [
            {
                "label": f"{names[r['customer_id']].name} ({names[r['customer_id']].code})",
                "amount": r["amount"],
                "count": r["n"],
                "link": period.report(
                    "sales-register",
                    dates=period.range,
                    customer=names[r["customer_id"]].code,
                ),
            }
            for r in rows
        ]
    }


AGES = (
    ("0-30 days", 0, 30),
    ("31-60 days", 31, 60),
    ("61-90 days", 61, 90),
    ("Over 90 days", 91, None),
)


def receivables(period: Period) -> dict:
    """What credit customers owe, by the age of their unpaid sales today (one query on
    the unpaid-credit partial index), as the receivables report ages it."""
    today = period.today
    aggregates = {}
    for i, (_, youngest, oldest) in enumerate(AGES):
        condition = Q(occurred_at__lt=start_of(today - timedelta(days=youngest - 1)))
        if oldest is not None:
            condition &= Q(occurred_at__gte=start_of(today - timedelta(days=oldest)))
        aggregates[f"age{i}"] = _sum(DUE, condition)
        aggregates[f"n{i}"] = Count("pk", filter=condition)
    unpaid = period.scoped(Transaction.objects.unpaid_credit(), "customer__depot")
    row = unpaid.aggregate(**aggregates)
    link = period.report("receivables")
    buckets = [
        {"label": label, "amount": row[f"age{i}"], "count": row[f"n{i}"], "link": link}
        for i, (label, _, _) in enumerate(AGES)
    ]
    return {
        "buckets": buckets,
        "overdue": sum((b["amount"] for b in buckets[1:]), Decimal(0)),
        "total": sum((b["amount"] for b in buckets), Decimal(0)),
        "link": link,
    }


def invoices(period: Period) -> dict:
    """The range's posted sales whose invoice is neither printed nor e-mailed, and those
    whose e-mail failed: two counts whose EXISTS conditions sit in WHERE, so PostgreSQL
    answers them as anti and semi joins on the indexed audit log and outbox (as a
    FILTER of one aggregate they would be a subquery per sale, ten times slower)."""
    sales = period.scoped(Transaction.objects.filter(_during(period.range)))
    row = {
        key: sales.filter(INVOICE_FILTERS[name][1]()).count()
        for key, name in (("generated", "generated"), ("failed", "email_failed"))
    }
    return {
        "rows": [
            {
                "label": "Not yet e-mailed or printed",
                "count": row["generated"],
                "link": period.changelist(
                    "sales_transaction", dates=period.range, invoice="generated"
                ),
            },
            {
                "label": "E-mail failed",
                "count": row["failed"],
                "link": period.changelist(
                    "sales_transaction", dates=period.range, invoice="email_failed"
                ),
            },
        ]
    }
