"""Cylinder custody reports: depots below their reorder level, the exchange of empties for
fulls with the filling plant, cylinders written off, the cylinders customers hold and the
deposits held for them."""

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from reporting.catalogue import Column, Report, register
from reporting.filters import Filters
from reporting.links import report_url
from reporting.periods import period_bounds
from sales.models import CylinderHolding
from stock.models import MovementKind, StockMovement
from stock.selectors import low_stock


@register
class LowStock(Report):
    slug = "low-stock"
    title = "Low stock"
    filters_used = ("depot", "product")  # as it stands now
    description = (
        "Depots whose full cylinders of a product (at the depot, not on its vehicles) are "
        "under the product's reorder level now, and how many short."
    )
    columns = (
        Column("depot", "Depot"),
        Column("depot_name", "Depot name"),
        Column("product", "Product"),
        Column("full", "Full now"),
        Column("minimum", "Minimum"),
        Column("short", "Short", total=True),
    )

    def drill(self, row: dict, f: Filters) -> str:
        """The depot's stock of the product, and on to its ledger."""
        return report_url("stock-ledger", depot=row["depot"], product=row["product"])

    def rows(self, f: Filters) -> Iterator[tuple]:
        for row in low_stock(depot=f.depot, depot_ids=f.depot_ids):
            if f.product is not None and row["product"] != f.product:
                continue
            depot, product = row["depot"], row["product"]
            short = row["minimum"] - row["full"]
            yield depot.code, depot.name, product.code, row["full"], row["minimum"], short

    def estimate(self, f: Filters) -> int:
        return 0  # a few rows per depot: always built at once


@register
class PlantExchange(Report):
    """Empties go to the filling plant (PLANT_DISPATCH) and come back full (RECEIPT).
    What the plant holds of a depot's cylinders is what was sent less what came back,
    cumulative from the first movement, not only the period's."""

    slug = "plant-exchange"
    title = "Plant exchange"
    filters_used = ("date_from", "date_to", "depot", "product")
    options = {"period": (("month", "day"), "month")}
    description = (
        "Per depot, product and period: empties sent to the filling plant, full cylinders "
        "received from it, the difference, and what is outstanding at the plant (everything "
        "sent less everything received up to the end of the period)."
    )
    columns = (
        Column("period", "Period"),
        Column("depot", "Depot"),
        Column("product", "Product"),
        Column("sent", "Empties sent", total=True),
        Column("received", "Fulls received", total=True),
        Column("difference", "Sent - received", total=True),
        Column("outstanding", "Outstanding at the plant"),
    )
    chart = {
        "x": "period",
        "series": ["sent", "received"],
        "kind": "bar",
        "title": "Plant exchange",
    }
    in_time = True

    def drill(self, row: dict, f: Filters) -> str:
        """The depot's movements of the product in the period, in the stock ledger."""
        start, end = period_bounds(row["period"])
        if f.date_from and f.date_from.isoformat() > start:
            start = f.date_from.isoformat()
        if f.date_to and f.date_to.isoformat() < end:
            end = f.date_to.isoformat()
        return report_url(
            "stock-ledger", depot=row["depot"], product=row["product"], date_from=start, date_to=end
        )

    def _movements(self, f: Filters) -> QuerySet[StockMovement]:
        moves = StockMovement.objects.filter(
            kind__in=(MovementKind.PLANT_DISPATCH, MovementKind.RECEIPT), sales_rep__isnull=True
        )
        if f.depot_ids is not None:
            moves = moves.filter(depot_id__in=f.depot_ids)
        if f.depot is not None:
            moves = moves.filter(depot=f.depot)
        if f.product is not None:
            moves = moves.filter(product=f.product)
        if f.end:
            moves = moves.filter(created_at__lt=f.end)
        return moves.order_by()

    def rows(self, f: Filters) -> Iterator[tuple]:
        moves = self._movements(f)
        outstanding: dict[tuple[str, str], int] = defaultdict(int)
        if f.start:
            for row in (
                moves.filter(created_at__lt=f.start)
                .values("depot__code", "product__code", "kind")
                .annotate(q=Sum("quantity"))
            ):
                sign = 1 if row["kind"] == MovementKind.PLANT_DISPATCH else -1
                outstanding[(row["depot__code"], row["product__code"])] += sign * row["q"]
            moves = moves.filter(created_at__gte=f.start)
        month = f.options.get("period", "month") == "month"
        grouped = (
            moves.annotate(period=(TruncMonth if month else TruncDate)("created_at"))
            .values("period", "depot__code", "product__code", "product__sort_order", "kind")
            .annotate(q=Sum("quantity"))
        )
        table: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        for row in grouped:
            period = row["period"]
            if isinstance(period, datetime):  # TruncMonth: the month's first moment
                period = timezone.localtime(period).date()
            key = (row["depot__code"], row["product__sort_order"], row["product__code"], period)
            table[key][0 if row["kind"] == MovementKind.PLANT_DISPATCH else 1] += row["q"]
        out = []  # outstanding runs forwards in time; the rows are listed newest first
        for depot, _, product, period in sorted(table):
            sent, received = table[(depot, _, product, period)]
            outstanding[(depot, product)] += sent - received
            label = period.strftime("%Y-%m") if month else period.isoformat()
            row = (label, depot, product, sent, received, sent - received)
            out.append((*row, outstanding[(depot, product)]))
        out.sort(key=lambda r: r[0], reverse=True)  # stable: depots and products in order
        yield from out


@register
class WriteOffs(Report):
    """Cylinders that left the books as losses (WRITE_OFF: damaged, lost or condemned),
    apart from stock-count differences, with the cause and reason recorded."""

    slug = "write-offs"
    title = "Write-offs (losses)"
    filters_used = ("date_from", "date_to", "depot", "sales_rep", "product")
    description = (
        "Every write-off in the period: when, where (depot or vehicle), which product, full "
        "or empty, how many, the cause and reason given, and who recorded it."
    )
    columns = (
        Column("date", "Date"),
        Column("depot", "Depot"),
        Column("vehicle", "Vehicle of"),
        Column("product", "Product"),
        Column("state", "State"),
        Column("quantity", "Cylinders", total=True),
        Column("reason", "Cause and reason"),
        Column("recorded_by", "Recorded by"),
    )
    in_time = True

    def drill(self, row: dict, f: Filters) -> str:
        """The day's movements of the place and product in the stock ledger."""
        day = row["date"].isoformat()
        return report_url(
            "stock-ledger",
            depot=row["depot"],
            sales_rep=row["vehicle"],
            product=row["product"],
            date_from=day,
            date_to=day,
        )

    def queryset(self, f: Filters) -> QuerySet:
        moves = StockMovement.objects.filter(kind=MovementKind.WRITE_OFF)
        if f.depot_ids is not None:
            moves = moves.filter(depot_id__in=f.depot_ids)
        if f.depot is not None:
            moves = moves.filter(depot=f.depot)
        if f.sales_rep is not None:
            moves = moves.filter(sales_rep=f.sales_rep)
        if f.product is not None:
            moves = moves.filter(product=f.product)
        if f.start:
            moves = moves.filter(created_at__gte=f.start)
        if f.end:
            moves = moves.filter(created_at__lt=f.end)
        return moves

    def rows(self, f: Filters) -> Iterator[tuple]:
        moves = self.queryset(f).order_by("-created_at", "-id")
        for depot, rep, product, state, quantity, note, actor, at in moves.values_list(
            "depot__code",
            "sales_rep__username",
            "product__code",
            "state",
            "quantity",
            "note",
            "actor__username",
            "created_at",
        ).iterator(chunk_size=2000):
            day = timezone.localtime(at).date()
            state_label = "Full" if state == "FULL" else "Empty"
            yield day, depot, rep or "", product, state_label, quantity, note, actor

    def estimate(self, f: Filters) -> int:
        return self.queryset(f).count()


def _holdings(f: Filters) -> QuerySet[CylinderHolding]:
    holdings = CylinderHolding.objects.filter(Q(quantity__gt=0) | Q(deposit_held__gt=0))
    if f.depot_ids is not None:
        holdings = holdings.filter(customer__depot_id__in=f.depot_ids)
    if f.depot is not None:
        holdings = holdings.filter(customer__depot=f.depot)
    if f.customer is not None:
        holdings = holdings.filter(customer=f.customer)
    if f.product is not None:
        holdings = holdings.filter(product=f.product)
    return holdings


@register
class CylindersHeld(Report):
    slug = "cylinders-held"
    title = "Cylinders held"
    filters_used = ("date_to", "depot", "customer", "product")
    copy_safe = True  # dates, codes, whole numbers and money only
    description = (
        "Cylinders at each customer's site per product, the deposit held for them and the "
        "date of the last movement (a sale, return or count). With 'Date to': only those "
        "not moved since (last moved on or before that day), to chase cylinders that sit "
        "idle."
    )
    columns = (
        Column("depot", "Depot"),
        Column("customer_code", "Customer", link="customer"),
        Column("customer_name", "Customer name"),
        Column("product", "Product"),
        Column("quantity", "Cylinders", total=True),
        Column("deposit_held", "Deposit held", total=True, money=True),
        Column("last_movement", "Last movement"),
    )

    def queryset(self, f: Filters) -> QuerySet:
        holdings = _holdings(f)
        if f.end:
            holdings = holdings.filter(
                Q(last_movement_at__lt=f.end) | Q(last_movement_at__isnull=True)
            )
        return (
            holdings.annotate(
                depot_code=F("customer__depot__code"),
                customer_code=F("customer__code"),
                customer_name=F("customer__name"),
                product_code=F("product__code"),
                last_movement=TruncDate("last_movement_at"),
            )
            .values(
                "depot_code",
                "customer_code",
                "customer_name",
                "product_code",
                "quantity",
                "deposit_held",
                "last_movement",
            )
            .order_by("depot_code", "customer_code", "product__sort_order", "product_code")
        )

    def totals(self, f: Filters) -> dict:
        """In SQL: one aggregate, not every row read again."""
        sums = self.queryset(f).order_by().aggregate(q=Sum("quantity"), d=Sum("deposit_held"))
        return {"quantity": sums["q"] or 0, "deposit_held": sums["d"] or Decimal("0")}


@register
class Deposits(Report):
    """The deposits customers paid for the cylinders they hold: money the company owes
    back when the cylinders come back, not revenue."""

    slug = "deposits"
    title = "Deposits held"
    filters_used = ("depot", "customer", "product")  # as they stand now
    options = {"group_by": (("customer", "product", "depot"), "customer")}
    description = (
        "The deposit liability as it stands now: deposits held per customer and product "
        "(or totalled per product or per depot), with the cylinders they cover and the "
        "average paid per cylinder."
    )
    columns = (
        Column("depot", "Depot"),
        Column("customer_code", "Customer", link="customer"),
        Column("customer_name", "Customer name"),
        Column("product", "Product"),
        Column("cylinders", "Cylinders", total=True),
        Column("deposit_held", "Deposit held", total=True, money=True),
        Column("per_cylinder", "Average per cylinder"),
    )

    def drill(self, row: dict, f: Filters) -> str | None:
        """A total per product or depot opens the customers it adds up."""
        if f.options.get("group_by", "customer") == "customer":
            return None  # each row's customer is linked
        return report_url(
            "deposits",
            depot=row["depot"] or (f.depot.code if f.depot else None),
            product=row["product"] or (f.product.code if f.product else None),
            customer=f.customer.code if f.customer else None,
        )

    def rows(self, f: Filters) -> Iterator[tuple]:
        holdings = _holdings(f).filter(deposit_held__gt=0)
        group = f.options.get("group_by", "customer")
        if group == "customer":
            rows = holdings.values_list(
                "customer__depot__code",
                "customer__code",
                "customer__name",
                "product__code",
                "quantity",
                "deposit_held",
            ).order_by("customer__depot__code", "customer__code", "product__sort_order")
        else:
            keys = ("customer__depot__code",) if group == "depot" else ()
            keys += ("product__code", "product__sort_order") if group == "product" else ()
            grouped = (
                holdings.values(*keys)
                .annotate(n=Sum("quantity"), d=Sum("deposit_held"))
                .order_by(*(k for k in keys if k != "product__code"))
            )
            rows = (
                (
                    g.get("customer__depot__code", ""),
                    "",
                    "",
                    g.get("product__code", ""),
                    g["n"],
                    g["d"],
                )
                for g in grouped
            )
        for depot, code, name, product, cylinders, deposit in rows:
            average = (deposit / cylinders).quantize(Decimal("0.01")) if cylinders else None
            yield depot, code, name, product, cylinders, deposit, average
