"""Demo stock: opening stock at every depot four weeks ago, and a first morning's
collections and returns. (sales/demo.py carries on from there, day by day.)

Runs through the services, each told the moment it posts at (`at=`), so the demo
ledger, levels, documents and audit log are consistent and dated in the past.
Idempotent: opening stock is received once per depot and product, and representatives
who already have distributions get no more.
"""

from datetime import datetime
from typing import Any

from django.core.management.base import OutputWrapper

from core.demo import days_ago
from core.models import Depot, Role, User
from stock.models import Distribution, MovementKind, Product, ProductKind, StockMovement
from stock.services import (
    distribution_create,
    sales_rep_home_depot,
    stock_adjust,
    stock_receive,
)

OPENING_NOTE = "Opening stock (demo)"
OPENING = {"9KG": 120, "12.7KG": 300, "14KG": 80, "50KG-POL": 40, "50KG-L": 30}
# product, full cylinders collected, empties found on the vehicle, empties returned
MORNING = [("12.7KG", 40, 25, 20), ("9KG", 15, 10, 10), ("50KG-POL", 4, 2, 2)]


def seed(*, stdout: OutputWrapper) -> dict[str, Any]:
    actor = User.objects.get(username="admin")
    products = {p.code: p for p in Product.objects.filter(kind=ProductKind.CYLINDER)}
    received = 0
    for depot in Depot.objects.filter(is_active=True):
        for code, quantity in OPENING.items():
            already = StockMovement.objects.filter(
                kind=MovementKind.RECEIPT, depot=depot, product=products[code], note=OPENING_NOTE
            ).exists()
            if not already:
                stock_receive(
                    depot=depot,
                    product=products[code],
                    quantity=quantity,
                    actor=actor,
                    note=OPENING_NOTE,
                    at=days_ago(28, 7),
                )
                received += 1
    before = Distribution.objects.count()
    for rep in User.objects.filter(role=Role.SALES, is_active=True, username__startswith="rep"):
        if Distribution.objects.filter(sales_rep=rep).exists():
            continue
        depot = sales_rep_home_depot(rep, lock=False)
        for code, collected, empties, returned in MORNING:
            product = products[code]
            morning = days_ago(22, 8)
            _first_morning(rep, depot, product, collected, empties, returned, actor, at=morning)
    distributed = Distribution.objects.count() - before  # what was posted, counted
    stdout.write(
        f"Stock: {received} opening receipts, {distributed} distributions posted "
        f"(a first morning's collections and returns; run check_stock to verify the ledger)."
    )
    return {}


def totals() -> list[str]:
    """What the database holds, for seed_demo's last line."""
    return [f"{Distribution.objects.count()} distributions"]


def _first_morning(
    rep: User,
    depot: Depot,
    product: Product,
    collected: int,
    empties: int,
    returned: int,
    actor: User,
    *,
    at: datetime,
) -> None:
    """Load the vehicle, count the empties already on it, and bring some back, at `at`."""
    distribution_create(
        sales_rep=rep,
        depot=depot,
        product=product,
        quantity=collected,
        kind="COLLECTION",
        actor=actor,
        at=at,
    )
    stock_adjust(
        product=product,
        state="EMPTY",
        counted=empties,
        actor=actor,
        reason="Opening count of empties on the vehicle (demo)",
        sales_rep=rep,
        at=at,
    )
    distribution_create(
        sales_rep=rep,
        depot=depot,
        product=product,
        quantity=returned,
        kind="EMPTY_RETURN",
        actor=actor,
        at=at,
    )
