"""The dashboard's figures: each a few grouped SQL queries over indexed columns, never
a query per row. Every function takes the checked Period and returns plain data (text,
numbers, dates, links) that the cache keeps and the page formats.

Sales are dated by when they happened (occurred_at, indexed alone and with the depot);
receivables are the unpaid credit sales (a partial index); stock, cylinders held, low
stock and sync refusals are as they stand now.
"""

from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from core import display
from reporting.dashboard_period import Period, Window, months_back, start_of
from sales.delivery_status import INVOICE_FILTERS
from sales.models import Customer, PaymentType, Transaction, TransactionStatus

MONEY = DecimalField(max_digits=14, decimal_places=2)
ZERO = Value(Decimal("0"), output_field=MONEY)
POSTED = Q(status=TransactionStatus.POSTED)
TREND_MONTHS = 13


def _sum(field, condition) -> Coalesce:
    return Coalesce(Sum(field, filter=condition), ZERO)


def _during(window: Window) -> Q:
    start, end = window.bounds
    return Q(occurred_at__gte=start, occurred_at__lt=end)


def sales(period: Period) -> dict:
    """One query: count and amount of the posted sales today, this month, this year and
    in the chosen range, each against the same days a year before; cash against credit
    and the payment state of the range's sales."""
    windows = [w for window in period.windows for w in (window, window.before)]
    rng = _during(period.range)
    cash, credit = Q(payment_type=PaymentType.CASH), Q(payment_type=PaymentType.CREDIT)
    paid, unpaid = Q(is_paid=True), Q(is_paid=False)
    states = {
        "paid": POSTED & paid,
        "part": POSTED & credit & unpaid & Q(amount_paid__gt=0),
        "unpaid": POSTED & credit & unpaid & Q(amount_paid=0),
        "void": Q(status=TransactionStatus.VOID),
    }
    aggregates = {}
    for w in windows:
        aggregates[f"{w.key}_n"] = Count("pk", filter=POSTED & _during(w))
        aggregates[f"{w.key}_amount"] = _sum("total_amount", POSTED & _during(w))
    for name, condition in (("cash", cash), ("credit", credit)):
        aggregates[f"{name}_n"] = Count("pk", filter=POSTED & rng & condition)
        aggregates[f"{name}_amount"] = _sum("total_amount", POSTED & rng & condition)
    for name, condition in states.items():
        aggregates[f"{name}_n"] = Count("pk", filter=rng & condition)
        aggregates[f"{name}_amount"] = _sum("total_amount", rng & condition)
        aggregates[f"{name}_due"] = _sum(F("total_amount") - F("amount_paid"), rng & condition)
    # Today and this month lie within this year: the rows to read are the year's and the
    # range's, and the same a year before (four ranges of the occurred_at index).
    anywhere = Q()
    for w in windows:
        if w.key.split("_")[0] in ("year", "range"):
            anywhere |= _during(w)
    row = period.scoped(Transaction.objects.filter(anywhere)).aggregate(**aggregates)

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
    return {"periods": figures, "kinds": kinds, "payment": payment}


def _change(now: Decimal, before: Decimal) -> str:
    """ "+12.5%" against a year before; "" when there was nothing then."""
    if not before:
        return ""
    percent = (Decimal(now) - Decimal(before)) * 100 / Decimal(before)
    return f"{'+' if percent >= 0 else ''}{display.amount(percent, 1)}%"


def trend(period: Period) -> dict:
    """Posted sales by month: the 13 months up to the range's last day, and the same
    months a year before (one query over 25 months)."""
    last = period.date_to
    first = months_back(last, TREND_MONTHS - 1)
    earliest = months_back(last, TREND_MONTHS - 1 + 12)
    end = start_of(last + timedelta(days=1))
    rows = (
        period.scoped(Transaction.objects.filter(POSTED, occurred_at__gte=start_of(earliest)))
        .filter(occurred_at__lt=end)
        .annotate(month=TruncMonth("occurred_at"))
        .values("month")
        .annotate(n=Count("pk"), amount=Sum("total_amount"))
        .order_by("month")
    )
    by_month = {}
    for row in rows:
        month = row["month"]
        if hasattr(month, "tzinfo") and timezone.is_aware(month):
            month = timezone.localtime(month)
        by_month[(month.year, month.month)] = (row["n"], row["amount"] or Decimal(0))
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
    return {"months": months}


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
    due = F("total_amount") - F("amount_paid")
    aggregates = {}
    for i, (_, youngest, oldest) in enumerate(AGES):
        condition = Q(occurred_at__lt=start_of(today - timedelta(days=youngest - 1)))
        if oldest is not None:
            condition &= Q(occurred_at__gte=start_of(today - timedelta(days=oldest)))
        aggregates[f"age{i}"] = _sum(due, condition)
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
    whose e-mail failed (one query: anti-joins on the indexed audit and outbox)."""
    generated, failed = INVOICE_FILTERS["generated"][1](), INVOICE_FILTERS["email_failed"][1]()
    row = period.scoped(Transaction.objects.filter(_during(period.range))).aggregate(
        generated=Count("pk", filter=generated), failed=Count("pk", filter=failed)
    )
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
