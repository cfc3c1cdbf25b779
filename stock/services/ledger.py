"""The ledger primitives every stock posting is built from (also used by sales.services):
which level (LevelKey), locking levels in id order (levels_lock), and moving locked stock
with its ledger rows (movement_post, movements_post, levels_move, ledger_write).

See docs/architecture.md for the lock order.
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import Q

from core.history import historical_model
from core.models import Depot, User
from core.services.final_writes import execute_together, history_rows, insert_statement
from core.services.moments import posting_moment
from stock.models import Product, StockLevel, StockMovement


@dataclass(frozen=True)
class LevelKey:
    """Which stock level: a product in a state at a depot, or on a representative's vehicle."""

    depot: Depot
    product: Product
    state: str
    sales_rep: User | None = None

    def lookup(self) -> Q:
        if self.sales_rep is None:
            return Q(
                depot=self.depot, sales_rep__isnull=True, product=self.product, state=self.state
            )
        return Q(sales_rep=self.sales_rep, product=self.product, state=self.state)

    def matches(self, level: StockLevel) -> bool:
        return (
            level.product_id == self.product.pk
            and level.state == self.state
            and level.sales_rep_id == (self.sales_rep.pk if self.sales_rep else None)
            and (self.sales_rep is not None or level.depot_id == self.depot.pk)
        )

    @property
    def where(self) -> str:
        if self.sales_rep is None:
            return f"at depot {self.depot.code}"
        vehicle = self.sales_rep.vehicle_no or "without a number"
        return f"on vehicle {vehicle} ({self.sales_rep.username})"


def levels_lock(keys: list[LevelKey]) -> dict[LevelKey, StockLevel]:
    """Lock the levels of `keys` (creating missing ones at zero) in id order.

    One fixed order (by id) for every caller means two transactions never wait for each
    other in a cycle. Call inside a transaction, after locking the customer (if any).
    """
    keys = list(dict.fromkeys(keys))
    # One condition per location (a vehicle, or a depot's own stock): cheaper to build
    # than one per key; the few extra rows it may read are matched away below.
    places: dict[tuple[int | None, int], tuple[set[int], set[str]]] = {}
    for key in keys:
        place = places.setdefault(
            (key.sales_rep.pk if key.sales_rep else None, key.depot.pk), (set(), set())
        )
        place[0].add(key.product.pk)
        place[1].add(key.state)
    query = Q()
    for (rep, depot), (products, states) in places.items():
        where = Q(sales_rep=rep) if rep else Q(depot=depot, sales_rep__isnull=True)
        query |= where & Q(product__in=products, state__in=states)
    # The common case in one statement: the places' rows locked in id order. It may lock
    # a row no key asked for (another product's other state on the same vehicle), in the
    # same order as every other lock. When a level is missing (a place's first movement of
    # a product and state), the rows found stay locked while it is inserted: three such
    # first movements racing can deadlock, which PostgreSQL breaks and atomic_with_retry
    # retries. Rare (a first movement happens once per vehicle and product), and cheaper
    # than a second round trip on every posting.
    in_order = list(StockLevel.objects.select_for_update().filter(query).order_by("pk"))
    found = [level for level in in_order if any(k.matches(level) for k in keys)]
    missing = [k for k in keys if not any(k.matches(level) for level in found)]
    if missing:
        # Two first-ever movements may race to create a row: the unique constraints keep
        # one, and ON CONFLICT DO NOTHING lets the other go on to lock it. The rows go in
        # one fixed order (depot, representative, product, state): an insert waits on the
        # other's uncommitted row of the same key, so two inserts in opposite orders (a
        # load sheet's lines reversed) would deadlock.
        missing.sort(
            key=lambda k: (
                k.depot.pk,
                k.sales_rep.pk if k.sales_rep else 0,
                k.product.pk,
                k.state,
            )
        )
        StockLevel.objects.bulk_create(
            [
                StockLevel(depot=k.depot, sales_rep=k.sales_rep, product=k.product, state=k.state)
                for k in missing
            ],
            ignore_conflicts=True,
        )
        exact = Q()
        for key in keys:
            exact |= key.lookup()
        in_order = list(StockLevel.objects.select_for_update().filter(exact).order_by("pk"))
    result = {}
    for key in keys:
        level = next(level for level in in_order if key.matches(level))
        if key.sales_rep is not None and level.depot_id != key.depot.pk and level.quantity == 0:
            # An empty level left at a depot its representative has since left (a move
            # made before vehicles moved with their representative): it holds no
            # cylinders, so it follows them without touching any depot's books.
            level.depot_id = key.depot.pk
            level.save(update_fields=["depot", "updated_at"])
        elif key.sales_rep is not None and level.depot_id != key.depot.pk:
            # Never relabelled here: that would move cylinders from one depot's books to
            # another's with no ledger row. An empty vehicle moves with its representative
            # when their depot changes (vehicle_levels_follow); anything else is a fault
            # for check_stock to name, not for a posting to paper over.
            recorded = Depot.objects.get(pk=level.depot_id)
            name = key.sales_rep.username
            raise ValidationError(
                {
                    "sales_rep": ValidationError(
                        f"{name}'s vehicle stock of {key.product.code} "
                        f"({key.state.lower()}) is recorded at depot {recorded.code}, but {name} "
                        f"works from depot {key.depot.code}. Nothing was posted; head office "
                        "must reconcile the vehicle first (manage.py check_stock names it).",
                        code="vehicle_stock_other_depot",
                    )
                }
            )
        result[key] = level
    return result


def movement_post(
    *,
    kind: str,
    product: Product,
    state: str,
    quantity: int,
    actor: User,
    depot: Depot,
    sales_rep: User | None = None,
    from_level: StockLevel | None = None,
    to_level: StockLevel | None = None,
    document: models.Model | None = None,
    reference: str = "",
    note: str = "",
    at: datetime | None = None,
) -> StockMovement:
    """Move locked stock and write the ledger row. The levels must come from levels_lock.
    `at`: the posting's moment (None: now), see movements_post."""
    return movements_post(
        [
            Move(
                kind=kind,
                product=product,
                state=state,
                quantity=quantity,
                from_level=from_level,
                to_level=to_level,
            )
        ],
        actor=actor,
        depot=depot,
        sales_rep=sales_rep,
        document=document,
        reference=reference,
        note=note,
        at=at,
    )[0]


@dataclass(frozen=True)
class Move:
    """One ledger row of a document: `quantity` out of from_level and/or into to_level."""

    kind: str
    product: Product
    state: str
    quantity: int
    from_level: StockLevel | None = None
    to_level: StockLevel | None = None


def movements_post(
    moves: list[Move],
    *,
    actor: User,
    depot: Depot,
    sales_rep: User | None = None,
    document: models.Model | None = None,
    reference: str = "",
    note: str = "",
    at: datetime | None = None,
) -> list[StockMovement]:
    """The movements of one document at once: the locked levels change in one UPDATE,
    their history rows and the ledger rows are written by one INSERT each. All of them
    are stamped `at`, the posting's moment (None: now): the levels' updated_at, their
    history rows' date and the ledger rows' created_at."""
    now = posting_moment(at)
    levels_move(moves, actor=actor, at=now)
    return ledger_write(
        moves,
        actor=actor,
        depot=depot,
        sales_rep=sales_rep,
        document=document,
        reference=reference,
        note=note,
        at=now,
    )


def levels_move(moves: list[Move], *, actor: User, at: datetime | None = None) -> None:
    """The level side of movements_post. A sale calls it, then ledger_write, separately:
    this part does not need the sale's number, so it runs before the number is taken and
    the hot counter row stays locked for as short a time as possible. The levels'
    updated_at and history rows are stamped `at` (None: now)."""
    changed: dict[int, StockLevel] = {}
    for move in moves:
        if move.from_level is not None:
            if move.from_level.quantity < move.quantity:  # callers check first, better
                raise ValidationError(
                    f"Not enough stock in {move.from_level}.", code="insufficient_stock"
                )
            move.from_level.quantity -= move.quantity
            changed[move.from_level.pk] = move.from_level
        if move.to_level is not None:
            move.to_level.quantity += move.quantity
            changed[move.to_level.pk] = move.to_level
    now = posting_moment(at)
    levels = list(changed.values())
    for level in levels:
        level.updated_at = now
    if levels:
        # One UPDATE for all of them (what bulk_update writes, without its query building).
        table = connection.ops.quote_name(StockLevel._meta.db_table)
        cases = " ".join("WHEN %s THEN %s" for _ in levels)
        marks = ", ".join("%s" for _ in levels)
        update = (
            f"UPDATE {table} SET quantity = CASE id {cases} END, "  # noqa: S608 - ours
            f"updated_at = %s WHERE id IN ({marks})",
            [v for level in levels for v in (level.pk, level.quantity)]
            + [now]
            + [level.pk for level in levels],
        )
        # Their '~' history rows (what bulk_history_create writes) in the same round trip.
        history = history_rows(StockLevel, levels, user=actor, date=now, kind="~")
        execute_together([update, insert_statement(historical_model(StockLevel), history)])


def ledger_write(
    moves: list[Move],
    *,
    actor: User,
    depot: Depot,
    sales_rep: User | None = None,
    document: models.Model | None = None,
    reference: str = "",
    note: str = "",
    at: datetime | None = None,
) -> list[StockMovement]:
    """The ledger side of movements_post: one row per move (after levels_move), created
    `at` (None: now)."""
    return StockMovement.objects.bulk_create(
        ledger_rows(
            moves,
            actor=actor,
            depot=depot,
            sales_rep=sales_rep,
            document=document,
            reference=reference,
            note=note,
            at=at,
        )
    )


def ledger_rows(
    moves: list[Move],
    *,
    actor: User,
    depot: Depot,
    sales_rep: User | None = None,
    document: models.Model | None = None,
    reference: str = "",
    note: str = "",
    at: datetime | None = None,
) -> list[StockMovement]:
    """The ledger rows ledger_write writes, built, not saved (a sale writes them in its
    last round trip: core.services.final_writes)."""
    now = posting_moment(at)
    return [
        StockMovement(
            kind=move.kind,
            product=move.product,
            state=move.state,
            quantity=move.quantity,
            from_level=move.from_level,
            to_level=move.to_level,
            depot=depot,
            sales_rep=sales_rep,
            actor=actor,
            doc_type=document._meta.label_lower if document is not None else "",
            doc_id=document.pk if document is not None else None,
            reference=reference,
            note=note,
            created_at=now,
        )
        for move in moves
    ]
