"""Sales reports: register, summary, meter sales (receivables: receivables_reports)."""

from collections import defaultdict
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    F,
    IntegerField,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, TruncDate, TruncMonth

from reporting.catalogue import Column, Report, register
from reporting.filters import COMMON
from reporting.links import report_url
from reporting.periods import period_bounds
from sales.models import (
    MeterSale,
    PaymentType,
    Transaction,
    TransactionLine,
    TransactionStatus,
)

MONEY = DecimalField(max_digits=14, decimal_places=2)
QTY = DecimalField(max_digits=12, decimal_places=2)


def _tx_filters(f, prefix=""):
    """Q for a Transaction reached through `prefix` (e.g. "transaction__"). A sale is
    dated by when it happened (occurred_at, indexed alone and with the depot, the
    representative and the customer), not by when it was posted."""
    q = Q()
    if f.depot_ids is not None:
        q &= Q(**{f"{prefix}depot_id__in": f.depot_ids})
    if f.start:
        q &= Q(**{f"{prefix}occurred_at__gte": f.start})
    if f.end:
        q &= Q(**{f"{prefix}occurred_at__lt": f.end})
    for name, lookup in (("depot", "depot"), ("sales_rep", "sales_rep"), ("customer", "customer")):
        value = getattr(f, name)
        if value is not None:
            q &= Q(**{f"{prefix}{lookup}": value})
    if f.payment_type:
        q &= Q(**{f"{prefix}payment_type": f.payment_type})
    return q


def _line_rows(f):
    lines = TransactionLine.objects.filter(_tx_filters(f, "transaction__"))
    meters = MeterSale.objects.filter(_tx_filters(f, "transaction__"))
    if f.product is not None:
        lines = lines.filter(product=f.product)
        meters = meters.filter(product=f.product)
    return lines, meters


# The sale each row belongs to: the first columns of the register and the meter sales.
SALE_COLUMNS = (
    Column("date", "Happened"),
    Column("number", "Sale", link="sale"),
    Column("status", "Status", choices=tuple(TransactionStatus.choices)),
    Column("depot", "Depot"),
    Column("sales_rep", "Representative"),
    Column("customer_code", "Customer", link="customer"),
    Column("customer_name", "Customer name"),
)

REGISTER_FIELDS = {
    "date": TruncDate("transaction__occurred_at"),
    "number": F("transaction__number"),
    "status": F("transaction__status"),
    "depot": F("transaction__depot__code"),
    "sales_rep": F("transaction__sales_rep__username"),
    "customer_code": F("transaction__customer__code"),
    "customer_name": F("transaction__customer__name"),
    "payment_type": F("transaction__payment_type"),
    "product_code": F("product__code"),
}
# When the server posted the sale (the last column: a sale synced late from a handheld
# happened on an earlier day than it was posted; its number's year is the posting's).
POSTED = {"posted": TruncDate("transaction__created_at")}
# Newest first: by the day the sales happened, within a day by number.
IN_TIME = ("-date", "-number")


@register
class SalesRegister(Report):
    slug = "sales-register"
    filters_used = COMMON
    title = "Sales register"
    copy_safe = True
    in_time = True
    description = "Every line of every sale (cylinders and meter readings), voids included."
    columns = (
        *SALE_COLUMNS,
        Column("payment_type", "Payment", choices=tuple(PaymentType.choices)),
        Column("product", "Product"),
        # No quantity total: cylinders and kilograms do not add up.
        Column("quantity", "Quantity"),
        Column("empties_returned", "Empties"),
        Column("rate", "Rate"),
        Column("amount", "Amount", total=True, money=True),
        Column("posted", "Posted"),
    )

    def totals(self, f):
        """In SQL: the register is the biggest report (millions of rows)."""
        lines, meters = _line_rows(f)
        posted = Q(transaction__status="POSTED")
        amount = Value(0, output_field=MONEY)
        return {
            "amount": sum(
                (
                    source.filter(posted).aggregate(a=Coalesce(Sum("subtotal"), amount))["a"]
                    for source in (lines, meters)
                ),
                Decimal("0"),
            )
        }

    def queryset(self, f):
        lines, meters = _line_rows(f)
        lines = (
            lines.annotate(
                **REGISTER_FIELDS,
                qty=Cast("quantity", QTY),
                empties=F("empties_returned"),
                price=F("rate"),
                amount=F("subtotal"),
                **POSTED,
            )
            .values(*REGISTER_FIELDS, "qty", "empties", "price", "amount", *POSTED)
            .order_by()
        )
        meters = (
            meters.annotate(
                **REGISTER_FIELDS,
                qty=F("quantity"),
                empties=Value(0, output_field=IntegerField()),
                price=F("rate"),
                amount=F("subtotal"),
                **POSTED,
            )
            .values(*REGISTER_FIELDS, "qty", "empties", "price", "amount", *POSTED)
            .order_by()
        )
        return lines.union(meters, all=True).order_by(*IN_TIME, "product_code")

    def counts_in_totals(self, row):
        return row[2] == "POSTED"

    def sql_columns(self):
        """The union's own column names, in column order, for COPY."""
        return [*REGISTER_FIELDS, "qty", "empties", "price", "amount", *POSTED]


@register
class SalesSummary(Report):
    slug = "sales-summary"
    filters_used = COMMON
    title = "Sales summary"
    description = "Posted sales by day or month and by depot, representative or product."
    options = {
        "group_by": (("depot", "sales_rep", "product"), "depot"),
        "period": (("month", "day"), "month"),
    }
    columns = (
        Column("period", "Period"),
        Column("group", "Group"),
        Column("sales", "Sales", total=True),
        Column("cylinders", "Cylinders", total=True),
        Column("meter_quantity", "Metered (kg)", total=True),
        Column("cash", "Cash", total=True, money=True),
        Column("credit", "Credit", total=True, money=True),
        Column("amount", "Amount", total=True, money=True),
    )
    in_time = True
    # One series per group (depot, representative or product), stacked: each bar is the
    # period's amount, split by group.
    chart = {
        "x": "period",
        "series": ["amount"],
        "group": "group",
        "stacked": True,
        "kind": "bar",
        "title": "Sales by period",
    }

    def summed(self, f):
        keys = super().summed(f)
        if f.options.get("group_by") == "product":
            keys.remove("sales")  # a sale of two products is under both: it would count twice
        return keys

    def drill(self, row, f):
        """The period's sales of the group in the sales register."""
        start, end = period_bounds(row["period"])
        group_by = f.options.get("group_by", "depot")
        query = {**f.as_query(), "date_from": start, "date_to": end, group_by: row["group"]}
        query.pop("group_by", None)
        query.pop("period", None)
        if f.date_from and f.date_from.isoformat() > start:
            query["date_from"] = f.date_from.isoformat()
        if f.date_to and f.date_to.isoformat() < end:
            query["date_to"] = f.date_to.isoformat()
        return report_url("sales-register", **query)

    def rows(self, f):
        if f.options.get("group_by", "depot") != "product" and f.product is None:
            yield from self._rows_from_sales(f)
            return
        yield from self._rows_from_lines(f)

    def _rows_from_sales(self, f):
        """By depot or representative: one pass over the sales, whose cylinders and
        metered gas were written at posting (the line-by-line path gives the same)."""
        month = f.options.get("period", "month") == "month"
        key = {"depot": "depot__code", "sales_rep": "sales_rep__username"}[
            f.options.get("group_by", "depot")
        ]
        cash = Q(payment_type=PaymentType.CASH)
        zero = Value(0, output_field=MONEY)
        grouped = (
            Transaction.objects.filter(_tx_filters(f), status="POSTED")
            .annotate(period=(TruncMonth if month else TruncDate)("occurred_at"), group=F(key))
            .values("period", "group")
            .annotate(
                sales=Count("id"),
                cylinders=Sum("cylinders"),
                metered=Sum("metered"),
                cash=Coalesce(Sum("total_amount", filter=cash), zero),
                credit=Coalesce(Sum("total_amount", filter=~cash), zero),
            )
            .order_by("-period", "group")
        )
        for row in grouped:
            yield (
                row["period"].strftime("%Y-%m") if month else row["period"].isoformat(),
                row["group"],
                row["sales"],
                row["cylinders"],
                row["metered"],
                row["cash"],
                row["credit"],
                row["cash"] + row["credit"],
            )

    def _rows_from_lines(self, f):
        trunc = TruncMonth if f.options.get("period", "month") == "month" else TruncDate
        group_by = f.options.get("group_by", "depot")
        posted = Q(transaction__status="POSTED")
        lines, meters = _line_rows(f)
        lines, meters = lines.filter(posted), meters.filter(posted)
        group = {
            "depot": "transaction__depot__code",
            "sales_rep": "transaction__sales_rep__username",
            "product": "product__code",
        }[group_by]
        table = defaultdict(
            lambda: {
                "sales": set(),
                "cylinders": 0,
                "meter": Decimal("0"),
                "cash": Decimal("0"),
                "credit": Decimal("0"),
            }
        )
        cash = Q(transaction__payment_type=PaymentType.CASH)
        product_counts = defaultdict(int)
        for source, qty_key in ((lines, "cylinders"), (meters, "meter")):
            grouped = (
                source.annotate(period=trunc("transaction__occurred_at"), group=F(group))
                .values("period", "group")
                .annotate(
                    ids=Count("transaction_id", distinct=True),
                    qty=Sum("quantity"),
                    cash=Coalesce(Sum("subtotal", filter=cash), Value(0, output_field=MONEY)),
                    credit=Coalesce(Sum("subtotal", filter=~cash), Value(0, output_field=MONEY)),
                )
                .order_by()
            )
            for row in grouped:
                product_counts[(row["period"], row["group"])] += row["ids"]
                cell = table[(row["period"], row["group"])]
                cell[qty_key] += row["qty"] or 0
                cell["cash"] += row["cash"]
                cell["credit"] += row["credit"]
        # Sales are counted once even when they hold cylinders and a meter reading.
        counted = Transaction.objects.filter(_tx_filters(f), status="POSTED").annotate(
            period=trunc("occurred_at")
        )
        if group_by == "product":
            counts = product_counts  # a product is on a sale's lines or its meter, not both
        else:
            key = {"depot": "depot__code", "sales_rep": "sales_rep__username"}[group_by]
            if f.product is not None:
                counted = counted.filter(
                    Q(lines__product=f.product) | Q(meter_sale__product=f.product)
                )
            counts = {
                (r["period"], r[key]): r["n"]
                for r in counted.values("period", key)
                .annotate(n=Count("id", distinct=True))
                .order_by()
            }
        by_group = sorted(table.items(), key=lambda item: str(item[0][1]))
        for (period, group), cell in sorted(by_group, key=lambda item: item[0][0], reverse=True):
            yield (
                period.strftime("%Y-%m")
                if f.options.get("period", "month") == "month"
                else period.isoformat(),
                group,
                counts.get((period, group), 0),
                cell["cylinders"],
                cell["meter"],
                cell["cash"],
                cell["credit"],
                cell["cash"] + cell["credit"],
            )


@register
class MeterSales(Report):
    slug = "meter-sales"
    filters_used = COMMON
    title = "Meter sales"
    copy_safe = True
    in_time = True
    description = "Bulk tank sales by meter reading."
    columns = (
        *SALE_COLUMNS,
        Column("last_reading", "Previous reading"),
        Column("latest_reading", "Reading"),
        Column("quantity", "Quantity", total=True),
        Column("rate", "Rate"),
        Column("amount", "Amount", total=True, money=True),
        Column("posted", "Posted"),
    )

    def queryset(self, f):
        _, meters = _line_rows(f)
        fields = {
            k: v for k, v in REGISTER_FIELDS.items() if k not in ("payment_type", "product_code")
        }
        return (
            meters.annotate(**fields, amount=F("subtotal"), **POSTED)
            .values(
                *fields, "last_reading", "latest_reading", "quantity", "rate", "amount", *POSTED
            )
            .order_by(*IN_TIME)
        )

    def counts_in_totals(self, row):
        return row[2] == "POSTED"
