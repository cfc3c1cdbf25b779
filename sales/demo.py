"""Demo sales: customers with contract rates, and three weeks of daily rounds.

Every representative's day, in order: load the vehicle in the morning, sell to customers
of the depot (cylinders and meter readings), sometimes void a sale, bring the empties
back in the evening. Credit customers pay on Fridays; prices rose ten days ago. Cylinders
carry a deposit (DEPOSITS, in force from a year before): sales charge it on the
cylinders a customer's holding grows by, and now and then a representative collects
empties without a sale (a cylinder return, the deposit refunded to a credit customer's
account or in cash to a cash one); C004 owns its cylinders (deposit exempt), and one
customer's cylinders held were set by a count at a site visit. All of it
goes through the services, each told the moment it posts at (`at=days_ago(...)`), so
documents, ledger and audit log agree. Every sale is taxed (TAX_PERCENT, in force from a
year before); a few customers take their documents by e-mail (EMAILS). Idempotent:
nothing is added once the demo representatives have sales.
"""

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import OutputWrapper
from django.utils import timezone

from core.demo import days_ago
from core.models import Depot, Role, User
from sales.demo_custody import (
    DEPOSIT_EXEMPT,
    DEPOSITS,
    RETURN_CHANCE,
    cylinder_return_posted,
    deposits_set,
    holding_count,
)
from sales.models import (
    Customer,
    Payment,
    PaymentType,
    TaxRate,
    Transaction,
    TransactionStatus,
)
from sales.selectors import customer_balance
from sales.services import (
    customer_create,
    customer_update,
    payment_record,
    rate_set,
    sale_post,
    sale_void,
    tax_rate_set,
)
from stock.demo import LIST_PRICES
from stock.models import Distribution, MovementKind, Product, StockMovement
from stock.selectors import stock_on_hand
from stock.services import distribution_create, sales_rep_home_depot, stock_receive

# code, name, depot, payment type, credit limit, has a bulk tank
CUSTOMERS = [
    ("C001", "Lanka Hotels (Pvt) Ltd", "NORTH", "CREDIT", "750000.00", True),
    ("C002", "Perera Stores", "NORTH", "CASH", None, False),
    ("C003", "Silva Bakery", "NORTH", "CREDIT", "150000.00", False),
    ("C004", "Green Leaf Restaurant", "NORTH", "CREDIT", "250000.00", True),
    ("C005", "Fernando Residence", "NORTH", "CASH", None, False),
    ("C101", "Galle Face Caterers", "SOUTH", "CREDIT", "400000.00", True),
    ("C102", "Mendis Hardware", "SOUTH", "CASH", None, False),
    ("C103", "Ocean View Guest House", "SOUTH", "CREDIT", "120000.00", False),
    ("C104", "Kumari Tea Room", "SOUTH", "CASH", None, False),
    ("C201", "Trinco Fisheries", "EAST", "CREDIT", "200000.00", False),
    ("C202", "Batti Foods", "EAST", "CASH", None, False),
]
# A walk-in cash customer without contract rates: pays the list prices (stock/demo.py).
# This morning they buy a first 12.7KG cylinder, its installation and its delivery.
WALK_IN = ("C009", "Walk-in customer (cash)", "NORTH", "CASH")
WALK_IN_LINES = [("12.7KG", 1, 0), ("INSTALL", 1, None), ("DELIVERY", 1, None)]
PRICE_RISE = Decimal("1.04")  # ten days ago
LOAD = {"12.7KG": 30, "9KG": 15, "14KG": 6, "50KG-POL": 3}  # a full vehicle each morning
DAYS = 21
TANKS = {code for code, *_, tank in CUSTOMERS if tank}  # customers with a bulk tank
TAX_PERCENT = Decimal("18")  # in force from a year before the demo's history
# Customers who take their documents by e-mail: the sales, credit notes and receipts
# posted to them in the demo are e-mailed (to the console, with DEBUG). The daily rounds
# leave them out, so the seed itself sends nothing (a flood of PDFs on `make run`).
E_MAIL_CUSTOMERS = [
    ("C006", "Harbour View Cafe", "NORTH", "CREDIT", "200000.00", False),
    ("C007", "Jayasinghe Traders", "NORTH", "CASH", None, False),
    ("C105", "Unawatuna Beach Resort", "SOUTH", "CREDIT", "300000.00", False),
]
EMAILS = {
    "C006": "accounts@harbourviewcafe.example",
    "C007": "jayasinghe.traders@mail.example",
    "C105": "finance@unawatunaresort.example",
}
Counts = dict[str, int]  # what was posted, by kind


def seed(*, stdout: OutputWrapper) -> dict[str, Any]:
    reps = list(User.objects.filter(role=Role.SALES, username__in=["rep", "rep2"]))
    admin = User.objects.get(username="admin")
    if Transaction.objects.filter(sales_rep__in=reps).exists():
        stdout.write("Sales: demo sales already there.")
        return {}
    _tax(admin)
    manager = User.objects.get(username="manager")
    products = {p.code: p for p in Product.objects.all()}
    deposits_set(admin, products)
    customers = _customers(admin, products)
    rng = random.Random(2026)  # demo data: the same every time
    # The returns draw from their own generator, so the rounds stay those they were.
    returns_rng = random.Random(2027)
    counts: Counts = {"sales": 0, "voids": 0, "payments": 0, "returns": 0, "adjustments": 0}
    counts["adjustments"] += holding_count(customers, products, admin, at=days_ago(DAYS, 7, 30))
    distributions = Distribution.objects.count()
    deliveries = StockMovement.objects.filter(kind=MovementKind.RECEIPT).count()
    for days in range(DAYS, 0, -1):
        moment = days_ago(days, 7)
        if moment.weekday() == 0:  # Monday: the filling plant delivers
            for depot in Depot.objects.filter(code__in=["NORTH", "SOUTH"]):
                for code in ("12.7KG", "9KG", "14KG"):
                    stock_receive(
                        depot=depot,
                        product=products[code],
                        quantity=120,
                        actor=admin,
                        note="Weekly delivery (demo)",
                        at=moment,
                    )
        for rep in reps:
            _one_day(rep, days, customers, products, rng, admin, manager, counts)
            if returns_rng.random() < RETURN_CHANCE:
                mine = [c for c in customers if c.code not in EMAILS]
                at = days_ago(days, 16, 45)
                counts["returns"] += cylinder_return_posted(rep, mine, returns_rng, at=at)
            _empties_back(rep, days, products)
        if moment.weekday() == 4:  # Friday: credit customers pay part of what they owe
            _payments(days, customers, rng, admin, counts)
    # This morning's load at 08:00 (or now, to the minute, if the seed runs before then:
    # nothing is posted in the future).
    this_morning = min(days_ago(0, 8), timezone.now().replace(second=0, microsecond=0))
    for rep in reps:
        _load(rep, products, admin, at=this_morning)
    counts["sales"] += _walk_in(reps, products, admin, at=this_morning)
    # The vehicles' daily loads and empty returns, and the plant's deliveries, counted.
    distributions = Distribution.objects.count() - distributions
    deliveries = StockMovement.objects.filter(kind=MovementKind.RECEIPT).count() - deliveries
    stdout.write(
        f"Sales: {len(customers)} customers, {counts['sales']} sales over {DAYS} days, "
        f"{counts['voids']} voids, {counts['payments']} payments, {distributions} "
        f"distributions (daily loads and empty returns), {deliveries} stock deliveries; "
        f"{TAX_PERCENT} % tax on every sale; deposits on {len(DEPOSITS)} cylinder "
        f"products, {counts['returns']} cylinder returns, {counts['adjustments']} "
        "holding adjustment."
    )
    return {}


def _tax(admin: User) -> None:
    """The tax rate of the demo: TAX_PERCENT from a year before its history, set a month
    ago (before the first demo sale), unless a rate was set already."""
    if TaxRate.objects.exists():
        return
    written = days_ago(31, 8)
    tax_rate_set(
        rate=TAX_PERCENT, actor=admin, effective_from=written - timedelta(days=365), at=written
    )


def totals() -> list[str]:
    """What the database holds, for seed_demo's last line."""
    sales = Transaction.objects.count()
    void = Transaction.objects.filter(status=TransactionStatus.VOID).count()
    return [
        f"{Customer.objects.count()} customers",
        f"{sales} sales ({void} void)",
        f"{Payment.objects.count()} payments",
    ]


def _customers(admin: User, products: dict[str, Product]) -> list[Customer]:
    depots = {d.code: d for d in Depot.objects.all()}
    customers = []
    for code, name, depot, payment_type, limit, tank in CUSTOMERS + E_MAIL_CUSTOMERS:
        values: dict[str, Any] = {
            "name": name,
            "depot": depots[depot],
            "payment_type": payment_type,
            "credit_limit": limit,
            "address": f"{name}, {depot.title()} area",
            "email": EMAILS.get(code, ""),
            "deposit_exempt": code in DEPOSIT_EXEMPT,
            "is_active": True,
        }
        found = Customer.objects.filter(code=code).first()
        if found is not None:  # put it back as documented; nothing is written if it is
            customers.append(customer_update(customer=found, actor=admin, data=values))
            continue
        customer = customer_create(code=code, actor=admin, at=days_ago(31, 9), **values)
        customers.append(customer)
        discount = Decimal("0.97") if payment_type == PaymentType.CREDIT else Decimal("1")
        for product_code, price in LIST_PRICES.items():
            if product_code == "BULK" and not tank:
                continue
            rate_set(
                customer=customer,
                product=products[product_code],
                rate=(price * discount).quantize(Decimal("1")),
                actor=admin,
                at=days_ago(30, 9),
            )
            rate_set(
                customer=customer,
                product=products[product_code],
                rate=(price * discount * PRICE_RISE).quantize(Decimal("1")),
                actor=admin,
                at=days_ago(10, 6),
            )
    return customers


def _walk_in(reps: list[User], products: dict[str, Product], admin: User, *, at: datetime) -> int:
    """The walk-in customer (no contract rate) and their sale at list prices, with two
    service lines: the sales posted (1, or 0 without the demo's NORTH representative)."""
    code, name, depot_code, payment_type = WALK_IN
    rep = next((r for r in reps if r.username == "rep"), None)
    depot = Depot.objects.filter(code=depot_code).first()
    if rep is None or depot is None or Customer.objects.filter(code=code).exists():
        return 0
    customer = customer_create(
        code=code,
        name=name,
        depot=depot,
        payment_type=payment_type,
        address="Over the counter",
        actor=admin,
        at=at,
    )
    lines = [
        {"product": products[p], "quantity": n, "empties_returned": empties}
        for p, n, empties in WALK_IN_LINES
    ]
    sale_post(customer=customer, sales_rep=rep, actor=rep, lines=lines, at=at)
    return 1


def _load(rep: User, products: dict[str, Product], admin: User, *, at: datetime) -> None:
    depot = sales_rep_home_depot(rep, lock=False)
    for code, full_load in LOAD.items():
        product = products[code]
        missing = full_load - stock_on_hand(product=product, sales_rep=rep)
        available = stock_on_hand(product=product, depot=depot)
        if min(missing, available) > 0:
            distribution_create(
                sales_rep=rep,
                depot=depot,
                product=product,
                quantity=min(missing, available),
                kind="COLLECTION",
                actor=admin,
                at=at,
            )


def _one_day(
    rep: User,
    days: int,
    customers: list[Customer],
    products: dict[str, Product],
    rng: random.Random,
    admin: User,
    manager: User,
    counts: Counts,
) -> None:
    depot = sales_rep_home_depot(rep, lock=False)
    _load(rep, products, admin, at=days_ago(days, 8))
    mine = [c for c in customers if c.depot_id == depot.pk and c.code not in EMAILS]
    posted = []
    for visit in range(rng.randint(3, 6)):
        customer = rng.choice(mine)
        lines = []
        for code in rng.sample(list(LOAD), k=rng.randint(1, 2)):
            on_vehicle = stock_on_hand(product=products[code], sales_rep=rep)
            quantity = min(on_vehicle, rng.randint(1, 4))
            if quantity:
                lines.append(
                    {
                        "product": products[code],
                        "quantity": quantity,
                        "empties_returned": max(0, quantity - rng.randint(0, 1)),
                    }
                )
        reading = None
        if customer.code in TANKS and rng.random() < 0.5:
            customer.refresh_from_db(fields=["last_meter_reading"])
            reading = customer.last_meter_reading + Decimal(rng.randint(80, 400))
        if not lines and reading is None:
            continue
        try:
            sold = sale_post(
                customer=customer,
                sales_rep=rep,
                actor=rep,
                lines=lines,
                meter_reading=reading,
                at=days_ago(days, 9 + visit, rng.randint(0, 59)),
            )
        except ValidationError:
            continue  # e.g. a credit customer at their limit: the rep moves on
        posted.append(sold)
        counts["sales"] += 1
    cylinder_sales = [s for s in posted if not hasattr(s, "meter_sale")]
    if cylinder_sales and rng.random() < 0.25:
        sale_void(
            transaction=rng.choice(cylinder_sales),
            actor=manager if manager.depots.filter(pk=depot.pk).exists() else admin,
            reason="Customer refused delivery (demo)",
            at=days_ago(days, 16, 30),
        )
        counts["voids"] += 1


def _empties_back(rep: User, days: int, products: dict[str, Product]) -> None:
    """The evening: every empty on the vehicle back to the depot."""
    depot = sales_rep_home_depot(rep, lock=False)
    for code in LOAD:
        empties = stock_on_hand(product=products[code], state="EMPTY", sales_rep=rep)
        if empties:
            distribution_create(
                sales_rep=rep,
                depot=depot,
                product=products[code],
                quantity=empties,
                kind="EMPTY_RETURN",
                actor=rep,
                at=days_ago(days, 17, 30),
            )


def _payments(
    days: int, customers: list[Customer], rng: random.Random, admin: User, counts: Counts
) -> None:
    for customer in customers:
        if customer.payment_type != PaymentType.CREDIT:
            continue
        owed = customer_balance(customer=customer)
        if owed <= 0:
            continue
        amount = (owed * Decimal(rng.choice(["0.5", "0.8", "1"]))).quantize(Decimal("0.01"))
        payment_record(
            customer=customer,
            amount=amount,
            actor=admin,
            method=rng.choice(["CHEQUE", "BANK"]),
            reference=f"DEMO-{customer.code}-{days}",
            at=days_ago(days, 15),
        )
        counts["payments"] += 1
