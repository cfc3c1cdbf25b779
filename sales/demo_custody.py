"""The demo's cylinder custody (sales/demo.py runs it): deposits on the cylinder products,
an opening count of one customer's cylinders held, and cylinder returns during the
rounds. Through the services, each told its moment (at=)."""

import random
from datetime import datetime, timedelta
from decimal import Decimal

from core.demo import days_ago
from core.models import User
from sales.models import Customer, CylinderHolding, DepositRate
from sales.services import cylinder_return, cylinders_held_adjust, deposit_set
from stock.models import Product
from stock.services import sales_rep_home_depot

# The deposit per cylinder, in force from a year before the demo's history.
DEPOSITS = {
    "9KG": Decimal("1500.00"),
    "12.7KG": Decimal("2500.00"),
    "14KG": Decimal("2750.00"),
    "50KG-POL": Decimal("7500.00"),
    "50KG-L": Decimal("7500.00"),
}
DEPOSIT_EXEMPT = {"C004"}  # owns its cylinders: no deposit charged or refunded
RETURN_CHANCE = 0.3  # of a cylinder return on a representative's day


def deposits_set(admin: User, products: dict[str, Product]) -> None:
    """The deposits of the demo: DEPOSITS from a year before its history, set a month
    ago (before the first demo sale), unless a deposit was set already."""
    if DepositRate.objects.exists():
        return
    written = days_ago(31, 8)
    for code, amount in DEPOSITS.items():
        deposit_set(
            product=products[code],
            amount=amount,
            actor=admin,
            effective_from=written - timedelta(days=365),
            at=written,
        )


def holding_count(
    customers: list[Customer], products: dict[str, Product], admin: User, *, at: datetime
) -> int:
    """A site visit before the rounds: Silva Bakery (C003) was found holding 4 12.7KG
    cylinders from before the system (an opening count, no deposit on record)."""
    customer = next(c for c in customers if c.code == "C003")
    cylinders_held_adjust(
        customer=customer,
        product=products["12.7KG"],
        counted=4,
        reason="Site visit: cylinders held from before the system (demo)",
        actor=admin,
        at=at,
    )
    return 1


def cylinder_return_posted(
    rep: User, customers: list[Customer], rng: random.Random, *, at: datetime
) -> int:
    """Empties collected without a sale, at `at`, from one of the representative's
    depot's customers who hold cylinders: one or two of a product (1 posted, or 0 when
    nobody holds any)."""
    depot = sales_rep_home_depot(rep, lock=False)
    mine = [c.pk for c in customers if c.depot_id == depot.pk]
    holdings = list(
        CylinderHolding.objects.filter(customer_id__in=mine, quantity__gt=0)
        .select_related("customer", "product")
        .order_by("customer__code", "product__sort_order")
    )
    if not holdings:
        return 0
    holding = rng.choice(holdings)
    cylinder_return(
        customer=holding.customer,
        sales_rep=rep,
        lines=[{"product": holding.product, "quantity": min(holding.quantity, rng.randint(1, 2))}],
        actor=rep,
        at=at,
    )
    return 1
