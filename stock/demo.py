"""Demo stock: opening stock at every depot four weeks ago, and a first morning's
collections and returns; reorder levels (EAST below its 50KG-L minimum after a transfer
to NORTH), and the first morning's empties sent to the filling plant. (sales/demo.py
carries on from there, day by day.)

Runs through the services, each told the moment it posts at (`at=`), so the demo
ledger, levels, documents and audit log are consistent and dated in the past.
Idempotent: opening stock is received once per depot and product, and representatives
who already have distributions get no more.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.management.base import OutputWrapper

from core.demo import days_ago
from core.models import Depot, Role, User
from stock.models import (
    Distribution,
    MovementKind,
    Product,
    ProductKind,
    ReorderLevel,
    StockMovement,
)
from stock.services import (
    distribution_create,
    empties_dispatch,
    product_create,
    product_update,
    reorder_level_set,
    sales_rep_home_depot,
    stock_adjust,
    stock_receive,
    stock_transfer,
)

# What a customer without a contract rate pays (the demo's contract rates are set from
# these too, in sales/demo.py), and the services sold beside the cylinders.
LIST_PRICES = {
    "BULK": Decimal("285.00"),
    "9KG": Decimal("2850.00"),
    "12.7KG": Decimal("3980.00"),
    "14KG": Decimal("4390.00"),
    "50KG-POL": Decimal("15600.00"),
    "50KG-L": Decimal("15450.00"),
}
# code, name, list price: priced and taxed, never stocked
SERVICES = [
    ("INSTALL", "Installation", Decimal("1500.00")),
    ("DELIVERY", "Delivery charge", Decimal("350.00")),
]
OPENING_NOTE = "Opening stock (demo)"
OPENING = {"9KG": 120, "12.7KG": 300, "14KG": 80, "50KG-POL": 40, "50KG-L": 30}
# product, full cylinders collected, empties found on the vehicle, empties returned
MORNING = [("12.7KG", 40, 25, 20), ("9KG", 15, 10, 10), ("50KG-POL", 4, 2, 2)]
# depot -> product -> minimum full cylinders. EAST sends 12 of its 30 50KG-L to NORTH
# (TRANSFER) and is left below its minimum of 25: the dashboard and the daily alert show it.
REORDER = {
    "NORTH": {"12.7KG": 20, "9KG": 10, "50KG-L": 5},
    "SOUTH": {"12.7KG": 20, "9KG": 10},
    "EAST": {"12.7KG": 100, "50KG-L": 25},
}
TRANSFER = ("EAST", "NORTH", [("50KG-L", 12), ("50KG-POL", 6)], "WB-DEMO-0001")
# depot, product, empties sent to the plant that afternoon (of the first morning's returns)
DISPATCHES = [("NORTH", "12.7KG", 15), ("NORTH", "9KG", 8), ("SOUTH", "12.7KG", 15)]


def seed(*, stdout: OutputWrapper) -> dict[str, Any]:
    actor = User.objects.get(username="admin")
    _products(actor, stdout, at=days_ago(31, 8))
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
    _custody(actor, products, stdout)
    return {}


def _products(actor: User, stdout: OutputWrapper, *, at: datetime) -> None:
    """The services (installation, a delivery charge) and every product's list price, put
    back as documented on each run (nothing is written where nothing changed)."""
    for code, name, price in SERVICES:
        found = Product.objects.filter(code=code).first()
        if found is None:
            product_create(
                code=code,
                name=name,
                kind=ProductKind.SERVICE,
                actor=actor,
                unit="service",
                list_price=price,
                sort_order=200,
                at=at,
            )
        else:
            data = {"name": name, "list_price": price, "is_active": True}
            product_update(product=found, actor=actor, data=data, at=at)
    for product in Product.objects.filter(code__in=LIST_PRICES):
        price = {"list_price": LIST_PRICES[product.code]}
        product_update(product=product, actor=actor, data=price, at=at)
    stdout.write(
        f"Products: list prices on {len(LIST_PRICES)} products (a customer without a "
        f"contract rate pays them); services {', '.join(c for c, *_ in SERVICES)}."
    )


def _custody(actor: User, products: dict[str, Product], stdout: OutputWrapper) -> None:
    """Reorder levels, a transfer and plant dispatches, once (none if levels exist)."""
    if ReorderLevel.objects.exists():
        return
    depots = {d.code: d for d in Depot.objects.filter(code__in=REORDER, is_active=True)}
    if set(depots) != set(REORDER):
        return  # not the demo's depots
    levels = 0
    for code, minimums in REORDER.items():
        for product, minimum in minimums.items():
            reorder_level_set(
                depot=depots[code],
                product=products[product],
                minimum_full=minimum,
                actor=actor,
                at=days_ago(28, 8),
            )
            levels += 1
    source, target, lines, reference = TRANSFER
    stock_transfer(
        from_depot=depots[source],
        to_depot=depots[target],
        lines=[{"product": products[code], "quantity": n} for code, n in lines],
        actor=actor,
        reference=reference,
        at=days_ago(25, 10),
    )
    dispatched = 0
    for number, (code, product, quantity) in enumerate(DISPATCHES, start=1):
        empties_dispatch(
            depot=depots[code],
            product=products[product],
            quantity=quantity,
            actor=actor,
            reference=f"DN-DEMO-{number:04d}",
            at=days_ago(22, 15),
        )
        dispatched += 1
    stdout.write(
        f"Custody: {levels} reorder levels, 1 transfer between depots ({source} to "
        f"{target}), {dispatched} dispatches of empties to the filling plant."
    )


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
