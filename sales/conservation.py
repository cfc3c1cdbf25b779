"""Invariant 11, cylinders are conserved: the checks `manage.py check_stock` runs for the
cylinders customers hold (registered in stock.checks_registry by SalesConfig.ready).

- holdings_check: each holding equals the replay of its ledger (HoldingEntry), cylinders
  and deposit, and neither the holding nor its ledger ever went below zero;
- conservation_check: per cylinder product, what is at depots, on vehicles and at
  customers' sites equals what came in and went out of the business: receipts - plant
  dispatches + stock adjustments + holding adjustments and openings - write-offs.

A few grouped queries each, whatever the number of customers: no query per customer.
check_stock runs both in its one snapshot (stock.checks_registry.check_snapshot).
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Q, Sum

from core.numbers import money_text
from sales.models import CylinderHolding, HoldingEntry, HoldingKind
from stock.checks_registry import CheckOutcome
from stock.models import MovementKind, Product, ProductKind, StockLevel, StockMovement

# Stock movement kinds whose net (in - out) enters or leaves the business's books.
BOOKS = {
    MovementKind.RECEIPT: "receipts",
    MovementKind.PLANT_DISPATCH: "plant dispatches",
    MovementKind.ADJUSTMENT: "stock adjustments",
    MovementKind.WRITE_OFF: "write-offs",
}
# Movements between the business's own places (net 0 when whole), and between vehicles
# and customers (net: minus what the customers' holdings changed by, with CUSTOMER_SIDE).
INTERNAL = (MovementKind.COLLECTION, MovementKind.EMPTY_RETURN, MovementKind.TRANSFER)
CUSTOMER_SIDE = (MovementKind.SALE, MovementKind.VOID, MovementKind.CUSTOMER_RETURN)
OPENINGS = (HoldingKind.ADJUSTMENT, HoldingKind.OPENING)


@dataclass
class Replay:
    """A holding's ledger replayed in the order it was written."""

    customer: int | None = None  # None: no entries; -1: entries of several customers
    product: int | None = None  # likewise
    cylinders: int = 0
    deposit: Decimal = Decimal("0")
    lowest: int = 0  # the lowest running count of cylinders
    lowest_deposit: Decimal = Decimal("0")
    entries: int = 0


def _money(value: object) -> Decimal:
    """A sum as the raw cursor gives it (SQLite: a float) as cents."""
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def _ledger_replay() -> dict[int, Replay]:
    """Per holding id, its ledger replayed: one scan of the ledger, whatever its size."""
    table = connection.ops.quote_name(HoldingEntry._meta.db_table)
    sql = f"""
        SELECT holding_id, customer_id, product_id, SUM(quantity), SUM(deposit),
               MIN(running_quantity), MIN(running_deposit), COUNT(*)
          FROM (SELECT holding_id, customer_id, product_id, quantity, deposit,
                       SUM(quantity) OVER running AS running_quantity,
                       SUM(deposit) OVER running AS running_deposit
                  FROM {table}
                WINDOW running AS (PARTITION BY holding_id ORDER BY id
                                   ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) e
         GROUP BY holding_id, customer_id, product_id"""  # noqa: S608 - our table's name
    replay: dict[int, Replay] = defaultdict(Replay)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        for holding, customer, product, cylinders, deposit, low, low_deposit, n in cursor:
            seen = replay[holding]
            several = seen.entries > 0
            seen.customer = -1 if several and seen.customer != customer else customer
            seen.product = -1 if several and seen.product != product else product
            seen.cylinders += cylinders
            seen.deposit += _money(deposit)
            # several groups: each one's lowest is still a moment the ledger reached
            seen.lowest = min(seen.lowest, low)
            seen.lowest_deposit = min(seen.lowest_deposit, _money(low_deposit))
            seen.entries += n
    return replay


def holdings_check() -> CheckOutcome:
    """Each holding against the replay of its ledger; a holding or a ledger below zero."""
    replay = _ledger_replay()
    differences = []
    holdings = CylinderHolding.objects.select_related("customer", "product").order_by("pk")
    count = 0
    for holding in holdings.iterator(chunk_size=2000):
        count += 1
        ledger = replay.pop(holding.pk, Replay())
        where = f"HOLDING {holding.customer.code} {holding.product.code}"
        ref = f"(holding id {holding.pk})"
        said = (
            f"holding says {holding.quantity} cylinders, deposit {money_text(holding.deposit_held)}"
        )
        if ledger.entries and (ledger.customer, ledger.product) != (
            holding.customer_id,
            holding.product_id,
        ):
            differences.append(
                f"{where}: its ledger has entries of another customer or product {ref}"
            )
        if (holding.quantity, holding.deposit_held) != (ledger.cylinders, ledger.deposit):
            differences.append(
                f"{where}: {said}; its ledger ({ledger.entries} entries) says "
                f"{ledger.cylinders} cylinders, deposit {money_text(ledger.deposit)} {ref}"
            )
        if holding.quantity < 0 or holding.deposit_held < 0:
            differences.append(f"{where}: below zero: {said} {ref}")
        if ledger.lowest < 0 or ledger.lowest_deposit < 0:
            differences.append(
                f"{where}: its ledger goes below zero on the way, down to {ledger.lowest} "
                f"cylinders, deposit {money_text(ledger.lowest_deposit)} {ref}"
            )
    for orphan, ledger in sorted(replay.items()):
        differences.append(
            f"HOLDING id {orphan} is missing; its ledger says {ledger.cylinders} cylinders, "
            f"deposit {money_text(ledger.deposit)}"
        )
    if differences:
        summary = f"{len(differences)} differences in {count} cylinder holdings and their ledger."
    else:
        summary = f"All {count} cylinder holdings match their ledger."
    return CheckOutcome(summary, differences)


@dataclass
class Books:
    """One cylinder product's figures."""

    depots: int = 0
    vehicles: int = 0
    customers: int = 0
    holding_openings: int = 0
    customer_moves: int = 0  # stock moved to (+) customers by sales, voids and returns
    customer_entries: int = 0  # what the holdings grew by through sales, voids, returns

    def __post_init__(self) -> None:
        self.net: dict[str, int] = defaultdict(int)

    @property
    def on_hand(self) -> int:
        return self.depots + self.vehicles + self.customers

    @property
    def accounted(self) -> int:
        return sum(self.net[kind] for kind in BOOKS) + self.holding_openings

    def differences(self, code: str) -> list[str]:
        """The totals against the books (the cached levels and holdings), then what the
        ledgers say to each other: what they moved to customers, and moves between the
        business's own places that do not net to 0."""
        found = []
        if self.on_hand != self.accounted:
            net = self.net
            gap = self.on_hand - self.accounted
            found.append(
                f"CONSERVATION {code}: depots {self.depots} + vehicles {self.vehicles} + "
                f"customers {self.customers} = {self.on_hand}, but receipts "
                f"{net[MovementKind.RECEIPT]} - plant dispatches "
                f"{-net[MovementKind.PLANT_DISPATCH]} + stock adjustments "
                f"{net[MovementKind.ADJUSTMENT]} + holding adjustments and openings "
                f"{self.holding_openings} - write-offs {-net[MovementKind.WRITE_OFF]} = "
                f"{self.accounted}: "
                + (f"{gap} more than accounted for" if gap > 0 else f"{-gap} missing")
            )
        if self.customer_moves != self.customer_entries:
            found.append(
                f"CONSERVATION {code}: the stock ledger's sales, voids and returns moved "
                f"{self.customer_moves} cylinders to customers, but the holding ledger's "
                f"grew by {self.customer_entries}"
            )
        for kind in INTERNAL:
            if self.net[kind]:
                found.append(
                    f"CONSERVATION {code}: {MovementKind(kind).label.lower()} movements "
                    f"net {self.net[kind]:+d} in the stock ledger (a move between the "
                    "business's own places nets 0: one side is missing)"
                )
        return found


def _books() -> dict[int, Books]:
    cylinders = Product.objects.filter(kind=ProductKind.CYLINDER).values_list("pk", flat=True)
    books: dict[int, Books] = {pk: Books() for pk in cylinders}
    levels = (
        StockLevel.objects.filter(product__in=list(books))
        .values_list("product")
        .annotate(
            depots=Sum("quantity", filter=Q(sales_rep__isnull=True)),
            vehicles=Sum("quantity", filter=Q(sales_rep__isnull=False)),
        )
        .order_by()
    )
    for product, depots, vehicles in levels:
        books[product].depots = depots or 0
        books[product].vehicles = vehicles or 0
    moves = (
        StockMovement.objects.filter(product__in=list(books))
        .values_list("product", "kind")
        .annotate(
            inflow=Sum("quantity", filter=Q(to_level__isnull=False)),
            outflow=Sum("quantity", filter=Q(from_level__isnull=False)),
        )
        .order_by()
    )
    for product, kind, inflow, outflow in moves:
        net = (inflow or 0) - (outflow or 0)
        books[product].net[kind] += net
        if kind in CUSTOMER_SIDE:
            books[product].customer_moves -= net
    held = (
        CylinderHolding.objects.filter(product__in=list(books))
        .values_list("product")
        .annotate(total=Sum("quantity"))
        .order_by()
    )
    for product, total in held:
        books[product].customers += total or 0
    entries = (
        HoldingEntry.objects.filter(product__in=list(books))
        .values_list("product", "kind")
        .annotate(total=Sum("quantity"))
        .order_by()
    )
    for product, kind, total in entries:
        if kind in OPENINGS:
            books[product].holding_openings += total or 0
        else:
            books[product].customer_entries += total or 0
    return books


def conservation_check() -> CheckOutcome:
    """Per cylinder product: depots + vehicles + customers against the books."""
    codes = dict(Product.objects.filter(kind=ProductKind.CYLINDER).values_list("pk", "code"))
    differences, products = [], 0
    for pk, books in sorted(_books().items(), key=lambda item: codes[item[0]]):
        found = books.differences(codes[pk])
        differences += found
        products += bool(found)
    if differences:
        summary = f"Cylinders are not conserved for {products} of {len(codes)} cylinder products."
    else:
        summary = (
            f"Cylinders are conserved for all {len(codes)} cylinder products (depots + "
            "vehicles + customers = receipts - plant dispatches + adjustments - write-offs)."
        )
    return CheckOutcome(summary, differences)
