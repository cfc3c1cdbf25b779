"""Reads of stock that other code reuses."""

from django.core.exceptions import ValidationError
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


def ledger_differences():
    """Each stock level whose quantity differs from the replay of the ledger.

    Two grouped scans of the ledger (in and out per level), whatever its size; yields
    (level, ledger_quantity) for every level that disagrees, including levels that the
    ledger mentions but that no longer exist.
    """
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
