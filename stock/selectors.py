"""Reads of stock that other code reuses."""

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypedDict

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from core.models import Depot, User
from stock.models import MovementKind, Product, ReorderLevel, StockLevel, StockMovement

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class LevelStock(TypedDict):
    full: int  # full cylinders at the depot now


# (level, or the id of a level that no longer exists; the quantity the ledger replays to)
LedgerDifference = tuple[StockLevel | int, int]
# (kind "ledger" or "home", the vehicle level, the other depot, quantity)
VehicleDepotDifference = tuple[str, StockLevel, Depot | None, int]


def stock_on_hand(
    *,
    product: Product,
    state: str = "FULL",
    depot: Depot | None = None,
    sales_rep: User | None = None,
) -> int:
    """Quantity of a product in a state at a depot or on a representative's vehicle."""
    if (depot is None) == (sales_rep is None):
        raise ValidationError("Name either a depot or a sales representative's vehicle.")
    levels = StockLevel.objects.filter(product=product, state=state)
    if sales_rep is not None:
        levels = levels.filter(sales_rep=sales_rep)
    else:
        levels = levels.filter(depot=depot, sales_rep__isnull=True)
    return levels.values_list("quantity", flat=True).first() or 0


def ledger_differences() -> list[LedgerDifference]:
    """Each stock level whose quantity differs from the replay of the ledger.

    Two grouped scans of the ledger (in and out per level), whatever its size; returns
    (level, ledger_quantity) for every level that disagrees, including levels that the
    ledger mentions but that no longer exist. On PostgreSQL both scans read one snapshot,
    so postings committed meanwhile are never half-seen.
    """
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return list(_differences())


def _differences() -> Iterator[LedgerDifference]:
    inflow = dict(
        StockMovement.objects.filter(to_level__isnull=False)
        .values_list("to_level")
        .annotate(total=Sum("quantity"))
        .order_by()
    )
    outflow = dict(
        StockMovement.objects.filter(from_level__isnull=False)
        .values_list("from_level")
        .annotate(total=Sum("quantity"))
        .order_by()
    )
    levels = StockLevel.objects.select_related("depot", "sales_rep", "product").order_by("pk")
    seen: set[int] = set()
    for level in levels.iterator(chunk_size=2000):
        seen.add(level.pk)
        replayed = inflow.get(level.pk, 0) - outflow.get(level.pk, 0)
        if replayed != level.quantity:
            yield level, replayed
    for orphan in (set(inflow) | set(outflow)) - seen:
        yield orphan, inflow.get(orphan, 0) - outflow.get(orphan, 0)


def vehicle_depot_differences() -> list[VehicleDepotDifference]:
    """Vehicle stock levels whose depot disagrees with the stock they hold.

    A vehicle level carries its representative's home depot, and each movement in or out
    of it is recorded at the depot the representative worked from at the time. Two ways
    a level can be wrong that the replay of quantities (ledger_differences) cannot see:

    - "ledger": movements at another depot than the level's left cylinders on it (their
      net there is not zero): the level was relabelled without a ledger row;
    - "home": the level is not at its representative's home depot (they moved with
      cylinders of the old depot on the vehicle, or no longer sell at all).

    Returns (kind, level, depot, quantity): the other depot, and how many cylinders the
    ledger holds there ("ledger") or the level holds ("home"). One snapshot, as
    ledger_differences.
    """
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return list(_vehicle_depot_differences())


def _vehicle_depot_differences() -> Iterator[VehicleDepotDifference]:
    vehicle_moves = StockMovement.objects.filter(sales_rep__isnull=False).order_by()
    net: dict[int, dict[int, int]] = {}
    for side, sign in (("to_level", 1), ("from_level", -1)):
        rows = (
            vehicle_moves.filter(**{f"{side}__sales_rep__isnull": False})
            .values_list(side, "depot")
            .annotate(total=Sum("quantity"))
        )
        for level_id, depot_id, total in rows:
            by_depot = net.setdefault(level_id, {})
            by_depot[depot_id] = by_depot.get(depot_id, 0) + sign * total
    homes: dict[int, list[int]] = {}
    for user_id, depot_id in User.depots.through.objects.filter(user__role="SALES").values_list(
        "user_id", "depot_id"
    ):
        homes.setdefault(user_id, []).append(depot_id)
    depots = {depot.pk: depot for depot in Depot.objects.all()}
    levels = (
        StockLevel.objects.filter(sales_rep__isnull=False)
        .select_related("depot", "sales_rep", "product")
        .order_by("pk")
    )
    for level in levels.iterator(chunk_size=2000):
        for depot_id, quantity in sorted(net.get(level.pk, {}).items()):
            if depot_id != level.depot_id and quantity != 0:
                yield "ledger", level, depots[depot_id], quantity
        rep = level.sales_rep  # set: vehicle levels only
        home = sorted(homes.get(rep.pk, []) if rep else [], key=lambda pk: depots[pk].code)
        if rep is None or rep.role != "SALES" or not home:
            if level.quantity:
                yield "home", level, None, level.quantity
        elif home[0] != level.depot_id:
            yield "home", level, depots[home[0]], level.quantity


def reorder_levels_stock() -> "QuerySet[WithAnnotations[ReorderLevel, LevelStock]]":
    """Every reorder level with `full`: the full cylinders of its product at its depot
    now (the depot's own stock, not its vehicles'), in the same query."""
    full = (
        StockLevel.objects.filter(
            depot=OuterRef("depot"),
            product=OuterRef("product"),
            state="FULL",
            sales_rep__isnull=True,
        )
        .order_by()
        .values("quantity")[:1]
    )  # one row at most (unique): no sort, no joins
    return ReorderLevel.objects.annotate(full=Coalesce(Subquery(full), 0))


def low_stock(
    *, depot: Depot | None = None, depot_ids: list[int] | None = None
) -> list[dict[str, Any]]:
    """The depots whose full cylinders of a product are under its reorder level, one
    query: [{"depot", "product", "full", "minimum"}] by depot code and product. Open
    depots and products still sold only. `depot_ids`: only these depots (a manager's)."""
    levels = (
        reorder_levels_stock()
        .filter(full__lt=F("minimum_full"), depot__is_active=True, product__is_active=True)
        .select_related("depot", "product")
    )
    if depot is not None:
        levels = levels.filter(depot=depot)
    if depot_ids is not None:
        levels = levels.filter(depot_id__in=depot_ids)
    return [
        {"depot": lv.depot, "product": lv.product, "full": lv.full, "minimum": lv.minimum_full}
        for lv in levels
    ]


def count_sheet(
    *, depot: Depot | None = None, sales_rep: User | None = None
) -> list[dict[str, Any]]:
    """The prefill of a count sheet for a depot's own stock or a representative's vehicle:
    [{"product", "state", "system_quantity"}] for every active cylinder product, FULL then
    EMPTY, in the products' order, and any inactive one still held there (it is counted
    until it is gone). Two queries."""
    if (depot is None) == (sales_rep is None):
        raise ValidationError(
            "Count either a depot or a vehicle (sales representative), not both.",
            code="depot_or_vehicle",
        )
    levels = StockLevel.objects.filter(product__kind="CYLINDER")
    if sales_rep is not None:
        levels = levels.filter(sales_rep=sales_rep)
    else:
        levels = levels.filter(depot=depot, sales_rep__isnull=True)
    held = {(p, s): q for p, s, q in levels.values_list("product_id", "state", "quantity")}
    products = Product.objects.filter(kind="CYLINDER").order_by("sort_order", "code")
    return [
        {"product": product, "state": state, "system_quantity": held.get((product.pk, state), 0)}
        for product in products
        for state in ("FULL", "EMPTY")
        if product.is_active or held.get((product.pk, "FULL")) or held.get((product.pk, "EMPTY"))
    ]


def depot_movements_filter(depot_ids: "list[int]") -> Q:
    """The condition of a movement list limited to these depots: the rows recorded at
    them (their own stock and their vehicles') and the transfers into them, which are
    recorded at the sending depot (StockMovement.depot) with their to_level here.

    The receiving levels are read first (one small query: a depot has a level per
    product and state) so the database can use the indexes on depot and on to_level
    rather than join every movement to its level."""
    levels = list(
        StockLevel.objects.filter(depot__in=depot_ids, sales_rep__isnull=True)
        .order_by()
        .values_list("pk", flat=True)
    )
    return Q(depot__in=depot_ids) | Q(kind=MovementKind.TRANSFER, to_level__in=levels)


def depot_movements(*, depot: Depot) -> QuerySet[StockMovement]:
    """The ledger rows a depot's movement list shows: those recorded at it (its own stock
    and its vehicles') and the transfers into it (see depot_movements_filter)."""
    return StockMovement.objects.filter(depot_movements_filter([depot.pk]))
