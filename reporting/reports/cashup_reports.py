"""The cash-ups report: per representative and day, the cash expected, counted and the
variance, and who confirmed it; a representative short again and again stands out."""

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from reporting.catalogue import Column, Report, register
from reporting.filters import Filters
from sales.day_models import CashUp, CashUpStatus

WINDOW_DAYS = 30
REPEATED = 2  # shortfalls within the window that make a representative stand out


@register
class CashUps(Report):
    """One row per representative and day (the cash-up's posting day, business time
    zone): a day with two cash-ups adds them up. A shortfall is a day whose variance is
    short by more than CASHUP_VARIANCE_TOLERANCE; the column counts the representative's
    short days in the 30 days up to and including the row's day (also those before
    date_from), and two or more flag the row."""

    slug = "cash-ups"
    title = "Cash-ups"
    filters_used = ("date_from", "date_to", "depot", "sales_rep")
    in_time = True
    description = (
        "Per representative and day: the cash expected (cash sales, cash payments "
        "received, less cash deposit refunds), the cash counted, the variance (below 0 is "
        "short), whether it is confirmed and by whom, and the representative's shortfalls "
        f"in the last {WINDOW_DAYS} days: {REPEATED} or more are flagged."
    )
    columns = (
        Column("date", "Date"),
        Column("depot", "Depot"),
        Column("sales_rep", "Representative"),
        Column("numbers", "Cash-ups", link="cashups"),
        Column("expected", "Expected", total=True, money=True),
        Column("counted", "Counted", total=True, money=True),
        Column("variance", "Variance", total=True, money=True),
        Column("status", "Status"),
        Column("confirmed_by", "Confirmed by"),
        Column("shortfalls", f"Shortfalls in the last {WINDOW_DAYS} days"),
        Column("flag", "Flag"),
    )

    def _cashups(self, f: Filters) -> QuerySet[CashUp]:
        cashups = CashUp.objects.all()
        if f.depot_ids is not None:
            cashups = cashups.filter(depot_id__in=f.depot_ids)
        if f.depot is not None:
            cashups = cashups.filter(depot=f.depot)
        if f.sales_rep is not None:
            cashups = cashups.filter(sales_rep=f.sales_rep)
        if f.end:
            cashups = cashups.filter(created_at__lt=f.end)
        return cashups.order_by()

    def rows(self, f: Filters) -> Iterator[tuple]:
        cashups = self._cashups(f)
        shown = cashups.filter(created_at__gte=f.start) if f.start else cashups
        days: dict[tuple[date, str, str], list[dict]] = defaultdict(list)
        for row in shown.values(
            "number",
            "created_at",
            "depot__code",
            "sales_rep__username",
            "expected_cash",
            "counted_cash",
            "variance",
            "status",
            "confirmed_by__username",
        ).iterator(chunk_size=2000):
            day = timezone.localtime(row["created_at"]).date()
            days[(day, row["depot__code"], row["sales_rep__username"])].append(row)
        if not days:
            return
        first = min(day for day, _, _ in days) - timedelta(days=WINDOW_DAYS - 1)
        tolerance = settings.CASHUP_VARIANCE_TOLERANCE
        variances: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
        window = cashups.filter(
            created_at__gte=timezone.make_aware(datetime.combine(first, time.min))
        )
        for rep, at, variance in window.values_list(
            "sales_rep__username", "created_at", "variance"
        ).iterator(chunk_size=2000):
            variances[(rep, timezone.localtime(at).date())] += variance
        short_days: dict[str, list[date]] = defaultdict(list)
        for (rep, day), variance in variances.items():
            if variance < -tolerance:
                short_days[rep].append(day)
        # Newest day first; within a day by depot and representative.
        for day, depot, rep in sorted(sorted(days), key=lambda k: k[0], reverse=True):
            group = sorted(days[(day, depot, rep)], key=lambda r: r["number"])
            since = day - timedelta(days=WINDOW_DAYS - 1)
            shortfalls = sum(1 for d in short_days[rep] if since <= d <= day)
            confirmed = all(r["status"] == CashUpStatus.CONFIRMED for r in group)
            by = sorted({r["confirmed_by__username"] for r in group if r["confirmed_by__username"]})
            yield (
                day,
                depot,
                rep,
                ", ".join(r["number"] for r in group),
                sum((r["expected_cash"] for r in group), Decimal("0.00")),
                sum((r["counted_cash"] for r in group), Decimal("0.00")),
                sum((r["variance"] for r in group), Decimal("0.00")),
                "Confirmed" if confirmed else "Awaiting confirmation",
                ", ".join(by),
                shortfalls,
                "Repeated shortfalls" if shortfalls >= REPEATED else "",
            )

    def estimate(self, f: Filters) -> int:
        cashups = self._cashups(f)
        return (cashups.filter(created_at__gte=f.start) if f.start else cashups).count()
