"""Reads of stock that other code reuses."""

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Sum

from core.models import Depot, User
from stock.models import Product, StockLevel, StockMovement


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


def vehicle_stock(*, sales_rep: User):
    """Everything on a representative's vehicle, full and empty, by product."""
    return (
        StockLevel.objects.filter(sales_rep=sales_rep)
        .select_related("product")
        .order_by("product__sort_order", "state")
    )


def ledger_differences() -> list:
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


def _differences():
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
    seen = set()
    for level in levels.iterator(chunk_size=2000):
        seen.add(level.pk)
        replayed = inflow.get(level.pk, 0) - outflow.get(level.pk, 0)
        if replayed != level.quantity:
            yield level, replayed
    for orphan in (set(inflow) | set(outflow)) - seen:
        yield orphan, inflow.get(orphan, 0) - outflow.get(orphan, 0)


def vehicle_transfer_guard(*, user: User, role: str, depots) -> None:
    """A representative whose vehicle holds stock keeps their depot and role until the
    vehicle is emptied (returned or counted off): the stock counts for that depot."""
    current = User.objects.filter(pk=user.pk).first()
    if current is None or current.role != "SALES":
        return
    before = set(current.depots.values_list("pk", flat=True))
    after = {d.pk for d in depots}
    if role == "SALES" and before == after:
        return
    held = StockLevel.objects.filter(sales_rep=current).aggregate(total=Sum("quantity"))["total"]
    if held:
        raise ValidationError(
            {
                "depots": f"{current.username}'s vehicle still holds {held} cylinders. "
                "Return them to the depot or count them off before changing the "
                "representative's depot or role."
            }
        )
