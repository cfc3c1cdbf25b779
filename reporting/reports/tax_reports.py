"""The tax summary: what a tax return is filled from."""

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, DecimalField, F, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth

from reporting.catalogue import Column, Report, register
from reporting.filters import Filters
from reporting.links import report_url
from reporting.periods import period_bounds
from sales.models import CreditNote, Transaction

MONEY = DecimalField(max_digits=14, decimal_places=2)
ZERO = Value(Decimal("0"), output_field=MONEY)


# A sale is dated by when it happened (occurred_at: a sale synced late from a handheld
# belongs to the day it was made, whatever month its number's year says). A credit note
# by when its void was posted (created_at): voids are made in the office, never offline,
# so their posting is when they happened.
SALE_MOMENT, NOTE_MOMENT = "occurred_at", "created_at"


def _within(f: Filters, moment: str, prefix: str = "") -> Q:
    """The rows of the user's depots (and the depot asked for) whose own `moment` lies in
    the period asked for; `prefix` reaches the sale."""
    q = Q()
    if f.depot_ids is not None:
        q &= Q(**{f"{prefix}depot_id__in": f.depot_ids})
    if f.depot is not None:
        q &= Q(**{f"{prefix}depot": f.depot})
    if f.start:
        q &= Q(**{f"{moment}__gte": f.start})
    if f.end:
        q &= Q(**{f"{moment}__lt": f.end})
    return q


@register
class TaxSummary(Report):
    slug = "tax-summary"
    filters_used = ("date_from", "date_to", "depot")
    title = f"{settings.TAX_NAME} summary"
    description = (
        "Net, tax and gross of the sales invoiced, by the month they happened, depot and tax "
        "rate, less the credit notes issued (a void is netted in the month of its credit "
        "note, at its sale's rate)."
    )
    columns = (
        Column("period", "Period"),
        Column("depot", "Depot"),
        Column("tax_rate", f"{settings.TAX_NAME} rate (%)"),
        Column("invoices", "Invoices", total=True),
        Column("credit_notes", "Credit notes", total=True),
        Column("net", "Net", total=True, money=True),
        Column("tax", settings.TAX_NAME, total=True, money=True),
        Column("gross", "Gross", total=True, money=True),
    )
    in_time = True

    def drill(self, row, f):
        """The month's sales of the depot in the sales register."""
        start, end = period_bounds(row["period"])
        if f.date_from and f.date_from.isoformat() > start:
            start = f.date_from.isoformat()
        if f.date_to and f.date_to.isoformat() < end:
            end = f.date_to.isoformat()
        return report_url("sales-register", date_from=start, date_to=end, depot=row["depot"])

    def rows(self, f: Filters) -> Iterator[tuple]:
        # A sale posted before tax existed and not yet reached by 0011's backfill has no
        # net: its net is its total (it has no tax).
        net = Coalesce("net_amount", F("total_amount") - F("tax_amount"), output_field=MONEY)
        invoiced = (
            Transaction.objects.filter(_within(f, SALE_MOMENT))
            .annotate(period=TruncMonth(SALE_MOMENT), depot_code=F("depot__code"))
            .values("period", "depot_code", "tax_rate")
            .annotate(n=Count("id"), net=Coalesce(Sum(net), ZERO), tax=Sum("tax_amount"))
            .order_by()
        )
        sale = "transaction__"
        credited = (
            CreditNote.objects.filter(_within(f, NOTE_MOMENT, sale))
            .annotate(
                period=TruncMonth(NOTE_MOMENT),
                depot_code=F(f"{sale}depot__code"),
                tax_rate=F(f"{sale}tax_rate"),
            )
            .values("period", "depot_code", "tax_rate")
            .annotate(
                n=Count("id"),
                net=Coalesce(
                    Sum(
                        Coalesce(
                            f"{sale}net_amount",
                            F(f"{sale}total_amount") - F(f"{sale}tax_amount"),
                            output_field=MONEY,
                        )
                    ),
                    ZERO,
                ),
                tax=Sum(f"{sale}tax_amount"),
            )
            .order_by()
        )
        table: dict[tuple, list] = defaultdict(lambda: [0, 0, Decimal("0"), Decimal("0")])
        for row in invoiced:
            cell = table[(row["period"], row["depot_code"], row["tax_rate"])]
            cell[0] += row["n"]
            cell[2] += row["net"]
            cell[3] += row["tax"]
        for row in credited:
            cell = table[(row["period"], row["depot_code"], row["tax_rate"])]
            cell[1] += row["n"]
            cell[2] -= row["net"]
            cell[3] -= row["tax"]
        by_depot = sorted(table.items(), key=lambda item: (item[0][1], item[0][2]))
        newest_first = sorted(by_depot, key=lambda item: item[0][0], reverse=True)
        for (period, depot, rate), (invoices, notes, net_sum, tax_sum) in newest_first:
            yield (
                period.strftime("%Y-%m"),
                depot,
                rate,
                invoices,
                notes,
                net_sum,
                tax_sum,
                net_sum + tax_sum,
            )
