"""The dashboard's figures as things stand now: cylinders by depot and at customers' sites,
depots below their reorder level, the latest sync refusals and cash-up variances. A few
grouped queries each (see reporting.dashboard_figures for the sales)."""

from django.db.models import Count, Q, Sum
from django.urls import reverse

from core.models import Depot
from reporting.dashboard_period import Period
from sales.custody_models import CylinderHolding
from sales.day_models import CashUp, CashUpStatus, SyncRefusal, SyncRefusalStatus
from stock.models import StockLevel
from stock.selectors import low_stock

SHOWN = 5  # the latest sync refusals and cash-up variances listed


def cylinders(period: Period) -> dict:
    """Full and empty cylinders per depot (its own stock and its vehicles') and those
    held by the depot's customers: two grouped queries."""
    at_depot, on_vehicle = Q(sales_rep__isnull=True), Q(sales_rep__isnull=False)
    stock = (
        period.scoped(StockLevel.objects.all())
        .values("depot_id")
        .annotate(
            full=Sum("quantity", filter=Q(state="FULL") & at_depot),
            empty=Sum("quantity", filter=Q(state="EMPTY") & at_depot),
            vehicle_full=Sum("quantity", filter=Q(state="FULL") & on_vehicle),
            vehicle_empty=Sum("quantity", filter=Q(state="EMPTY") & on_vehicle),
        )
        .order_by()
    )
    held = (
        period.scoped(CylinderHolding.objects.all(), "customer__depot")
        .values("customer__depot_id")
        .annotate(held=Sum("quantity"), customers=Count("customer_id", filter=Q(quantity__gt=0)))
        .order_by()
    )
    by_depot: dict[int, dict] = {}
    for row in stock:
        by_depot.setdefault(row["depot_id"], {}).update(row)
    for row in held:
        by_depot.setdefault(row["customer__depot_id"], {}).update(row)
    depots = Depot.objects.filter(pk__in=list(by_depot)).order_by("code")  # scoped above
    rows = []
    for depot in depots:
        row = by_depot.get(depot.pk, {})
        levels = f"{reverse('admin:stock_stocklevel_changelist')}?depot__id__exact={depot.pk}"
        rows.append(
            {
                "depot": depot.code,
                "depot_name": depot.name,
                "full": row.get("full") or 0,
                "empty": row.get("empty") or 0,
                "vehicle_full": row.get("vehicle_full") or 0,
                "vehicle_empty": row.get("vehicle_empty") or 0,
                "held": row.get("held") or 0,
                "full_link": f"{levels}&location=depot&state__exact=FULL",
                "empty_link": f"{levels}&location=depot&state__exact=EMPTY",
                "vehicle_link": f"{levels}&location=vehicle",
                "held_link": f"{reverse('reports:report', args=['cylinders-held'])}"
                f"?depot={depot.code}",
            }
        )
    return {"rows": rows}


def short_of_stock(period: Period) -> dict:
    """Depots whose full cylinders of a product are below its reorder level (one query)."""
    rows = low_stock(depot=period.depot, depot_ids=_ids(period))
    report = reverse("reports:report", args=["low-stock"])
    return {
        "rows": [
            {
                "depot": r["depot"].code,
                "product": r["product"].name,
                "full": r["full"],
                "minimum": r["minimum"],
                "short": r["minimum"] - r["full"],
                "link": f"{report}?depot={r['depot'].code}",
            }
            for r in rows
        ],
        "link": period.report("low-stock"),
    }


def refusals(period: Period) -> dict:
    """The open sync refusals: how many, and the latest few (two queries)."""
    open_ = period.scoped(SyncRefusal.objects.filter(status=SyncRefusalStatus.OPEN))
    count = open_.count()
    latest = open_.select_related("sales_rep", "depot").order_by("-id")[:SHOWN]
    return {
        "count": count,
        "rows": [
            {
                "when": r.received_at,
                "who": r.sales_rep.get_full_name() or r.sales_rep.username,
                "depot": r.depot.code if r.depot else "",
                "what": r.get_doc_type_display(),
                "why": r.error_message,
                "link": reverse("admin:sales_syncrefusal_change", args=[r.pk]),
            }
            for r in latest
        ],
        "link": period.changelist("sales_syncrefusal", status=SyncRefusalStatus.OPEN),
    }


def cashups(period: Period) -> dict:
    """The latest cash-ups whose count differed from what was expected, and how many
    await a manager's confirmation (two queries)."""
    scoped = period.scoped(CashUp.objects.all())
    awaiting = scoped.filter(status=CashUpStatus.POSTED).count()
    latest = (
        scoped.exclude(variance=0)
        .select_related("sales_rep", "depot")
        .order_by("-created_at", "-id")
    )[:SHOWN]
    return {
        "awaiting": awaiting,
        "awaiting_link": period.changelist("sales_cashup", status__exact=CashUpStatus.POSTED),
        "rows": [
            {
                "number": c.number,
                "when": c.created_at,
                "who": c.sales_rep.get_full_name() or c.sales_rep.username,
                "depot": c.depot.code,
                "variance": c.variance,
                "status": c.get_status_display(),
                "link": reverse("admin:sales_cashup_change", args=[c.pk]),
            }
            for c in latest
        ],
        "link": period.report("cash-ups", dates=period.range),
    }


def _ids(period: Period) -> list[int] | None:
    return None if period.depot_ids is None else list(period.depot_ids)
