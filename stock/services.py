"""Every change to stock. Each public function is one transaction, retried on a lock
conflict, that validates first (writing nothing on a refusal), locks the stock levels it
touches in id order, moves the stock with a ledger row and writes its audit entry.

sales.services uses `levels_lock` and `movement_post` to move stock inside a sale.

Lock order (DESIGN.md invariant 10), for every posting here and in sales.services: the
customer (sales only), then the representative's user row (FOR SHARE, taken by
sales_rep_home_depot before it reads their depot), then stock levels by id (levels_lock),
then the document counter and the audit chain head. A change of a representative's depot
or role locks the same user row (FOR NO KEY UPDATE, in stock.selectors.
vehicle_transfer_guard) before it looks at the vehicle: a posting that read the old depot
and the change that would move its stock away never overlap.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from core.db import atomic_with_retry
from core.idempotency import fingerprint, key_clean, replay
from core.models import Depot, Role, User
from core.numbers import plain_whole
from core.scoping import actor_access_check
from core.services import audit_record, document_number_next
from stock.models import (
    Distribution,
    DistributionKind,
    MovementKind,
    Product,
    StockLevel,
    StockMovement,
    StockState,
)

# --- Building blocks (also used by sales.services) --------------------------------------


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
    places = {}
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
    existing = list(
        StockLevel.objects.filter(query).values_list(
            "pk", "product_id", "state", "sales_rep_id", "depot_id"
        )
    )
    found = [
        StockLevel(pk=pk, product_id=p, state=s, sales_rep_id=r, depot_id=d)
        for pk, p, s, r, d in existing
    ]
    found = [level for level in found if any(k.matches(level) for k in keys)]
    missing = [k for k in keys if not any(k.matches(level) for level in found)]
    if missing:
        # Two first-ever movements may race to create a row: the unique constraints keep
        # one, and ON CONFLICT DO NOTHING lets the other go on to lock it.
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
        locked = StockLevel.objects.select_for_update().filter(exact)
    else:  # the common case: lock exactly the rows found, by primary key
        locked = StockLevel.objects.select_for_update().filter(pk__in=[f.pk for f in found])
    locked = list(locked.order_by("pk"))
    result = {}
    for key in keys:
        level = next(level for level in locked if key.matches(level))
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
            rep = key.sales_rep.username
            raise ValidationError(
                {
                    "sales_rep": f"{rep}'s vehicle stock of {key.product.code} "
                    f"({key.state.lower()}) is recorded at depot {recorded.code}, but {rep} "
                    f"works from depot {key.depot.code}. Nothing was posted; head office "
                    "must reconcile the vehicle first (manage.py check_stock names it)."
                }
            )
        result[key] = level
    return result


def availability_check(
    level: StockLevel, key: LevelKey, quantity: int, *, field: str | None = None
) -> None:
    """Refuse taking more than the level holds (code insufficient_stock), keyed by the
    field that asked for the quantity when there is one (quantity, lines[0].quantity)."""
    if level.quantity < quantity:
        refusal = ValidationError(
            f"Only {level.quantity} {key.state.lower()} {key.product.code} cylinders "
            f"{key.where}; {quantity} requested.",
            code="insufficient_stock",
        )
        raise ValidationError({field: refusal}) if field else refusal


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
    document=None,
    reference: str = "",
    note: str = "",
) -> StockMovement:
    """Move locked stock and write the ledger row. The levels must come from levels_lock."""
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
    document=None,
    reference: str = "",
    note: str = "",
) -> list[StockMovement]:
    """The movements of one document at once: the locked levels change in one UPDATE,
    their history rows and the ledger rows are written by one INSERT each."""
    levels_move(moves, actor=actor)
    return ledger_write(
        moves,
        actor=actor,
        depot=depot,
        sales_rep=sales_rep,
        document=document,
        reference=reference,
        note=note,
    )


def levels_move(moves: list[Move], *, actor: User) -> None:
    """The level side of movements_post. A sale calls it, then ledger_write, separately:
    this part does not need the sale's number, so it runs before the number is taken and
    the hot counter row stays locked for as short a time as possible."""
    changed: dict[int, StockLevel] = {}
    for move in moves:
        if move.from_level is not None:
            if move.from_level.quantity < move.quantity:  # callers check first, better
                raise ValidationError(f"Not enough stock in {move.from_level}.")
            move.from_level.quantity -= move.quantity
            changed[move.from_level.pk] = move.from_level
        if move.to_level is not None:
            move.to_level.quantity += move.quantity
            changed[move.to_level.pk] = move.to_level
    now = timezone.now()
    levels = list(changed.values())
    for level in levels:
        level.updated_at = now
    if levels:
        # One UPDATE for all of them (what bulk_update writes, without its query building).
        table = connection.ops.quote_name(StockLevel._meta.db_table)
        cases = " ".join("WHEN %s THEN %s" for _ in levels)
        marks = ", ".join("%s" for _ in levels)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET quantity = CASE id {cases} END, "  # noqa: S608 - ours
                f"updated_at = %s WHERE id IN ({marks})",
                [v for level in levels for v in (level.pk, level.quantity)]
                + [now]
                + [level.pk for level in levels],
            )
        StockLevel.history.bulk_history_create(
            levels, update=True, default_user=actor, default_date=now
        )


def ledger_write(
    moves: list[Move],
    *,
    actor: User,
    depot: Depot,
    sales_rep: User | None = None,
    document=None,
    reference: str = "",
    note: str = "",
) -> list[StockMovement]:
    """The ledger side of movements_post: one row per move (after levels_move)."""
    return StockMovement.objects.bulk_create(
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
        )
        for move in moves
    )


# --- Input checks: each names the field and the problem ---------------------------------


MAX_QUANTITY = 1_000_000  # far above any real load; keeps int columns safe


def whole_number(value, field: str, *, minimum: int) -> int:
    """A count from an int or a string of ASCII digits (core.numbers: not 1.0, "1.0",
    "1e0", True or non-ASCII digits), within minimum..MAX_QUANTITY."""
    try:
        value = plain_whole(value)
    except ValueError:
        raise ValidationError({field: f"Enter a whole number; got {value!r}."}) from None
    if value < minimum:
        bound = "above zero" if minimum == 1 else "of zero or more"
        raise ValidationError({field: f"Enter a whole number {bound}; got {value}."})
    if value > MAX_QUANTITY:
        raise ValidationError(
            {field: f"{value} is more than {MAX_QUANTITY:,} cylinders; check the figure."}
        )
    return value


def cylinder_check(product: Product, *, allow_inactive: bool = False) -> None:
    """Only cylinders have stock. Inactive products may still be returned and counted
    (stock already out there must be able to come back), never received or sold."""
    if not product.is_active and not allow_inactive:
        raise ValidationError({"product": f"{product.code} is no longer sold (inactive)."})
    if not product.is_cylinder:
        raise ValidationError(
            {"product": f"{product.code} is sold by meter reading; it has no cylinder stock."}
        )


def depot_check(depot: Depot | None) -> None:
    if depot is None:
        raise ValidationError({"depot": "Choose a depot."})
    if not depot.is_active:
        raise ValidationError({"depot": f"Depot {depot.code} is closed (inactive)."})


def sales_rep_home_depot(
    sales_rep: User,
    depot: Depot | None = None,
    *,
    allow_inactive: bool = False,
    lock: bool = True,
) -> Depot:
    """The representative's home depot, after checking they can hold vehicle stock.
    An inactive representative's vehicle may still be emptied and counted.

    Inside a posting's transaction (lock=True) the representative's row is locked FOR
    SHARE first and their role, status and depot are read after it, from the database
    (not from the possibly stale `sales_rep`). Until the posting commits, a depot or role
    change waits (it locks the row FOR NO KEY UPDATE before it looks at the vehicle), and
    a posting that starts during a change waits for it and reads the new depot. Postings
    for one representative share the lock and do not wait for each other. lock=False: a
    check before the posting's transaction, which must call this again inside it.
    """
    role, is_active, home_id = _sales_rep_read(sales_rep, lock=lock)
    if role != Role.SALES or not (is_active or allow_inactive):
        raise ValidationError(
            {"sales_rep": f"{sales_rep.username} is not an active sales representative."}
        )
    if home_id is None:
        raise ValidationError({"sales_rep": f"{sales_rep.username} has no home depot."})
    if depot is not None and home_id == depot.pk:
        return depot
    home = Depot.objects.get(pk=home_id)
    if depot is not None:
        raise ValidationError(
            {"depot": f"{sales_rep.username} works from depot {home.code}, not {depot.code}."}
        )
    return home


def _sales_rep_read(sales_rep: User, *, lock: bool) -> tuple:
    """(role, is_active, home depot id) of a representative. With lock, inside a
    transaction on PostgreSQL, the user row is locked FOR SHARE first (Django's
    select_for_update has no shared mode) and the depot read by a second statement: a
    statement that waited for a lock still sees other tables as they were when it began.
    Without a lock one statement reads all three. SQLite runs one writer at a time."""
    users = connection.ops.quote_name(User._meta.db_table)
    through = connection.ops.quote_name(User.depots.through._meta.db_table)
    depots = connection.ops.quote_name(Depot._meta.db_table)
    home = (
        f"SELECT ud.depot_id FROM {through} ud JOIN {depots} d ON d.id = ud.depot_id "  # noqa: S608
        "WHERE ud.user_id = %s ORDER BY d.code LIMIT 1"
    )
    locking = lock and connection.features.has_select_for_update and connection.in_atomic_block
    with connection.cursor() as cursor:
        if not locking:
            cursor.execute(
                f"SELECT role, is_active, ({home}) FROM {users} WHERE id = %s",  # noqa: S608
                [sales_rep.pk, sales_rep.pk],
            )
            row = cursor.fetchone()
            return row if row is not None else (None, False, None)
        cursor.execute(
            f"SELECT role, is_active FROM {users} WHERE id = %s FOR SHARE",  # noqa: S608
            [sales_rep.pk],
        )
        row = cursor.fetchone()
        if row is None:
            return None, False, None
        cursor.execute(home, [sales_rep.pk])
        depot = cursor.fetchone()
    return row[0], row[1], depot[0] if depot else None


def vehicle_levels_follow(*, sales_rep: User, empty_only: bool = False) -> int:
    """Move a representative's vehicle levels to their home depot after it changed; the
    number moved. Only empty levels move: the cylinders on a vehicle belong to the depot
    they were collected at, so a change is refused while the vehicle holds any
    (vehicle_transfer_guard) and a level still holding some is refused here too (or,
    with empty_only, left for check_stock to name). Called when a representative's
    depots change (stock.apps connects it), inside that change's transaction."""
    users = User.objects.select_for_update(no_key=True).filter(pk=sales_rep.pk)
    current = users.first()  # the lock order: the representative, then levels
    home = Depot.objects.filter(staff=sales_rep).order_by("code").first()
    if current is None or current.role != Role.SALES or home is None:
        return 0
    levels = list(
        StockLevel.objects.select_for_update()
        .filter(sales_rep=current)
        .exclude(depot=home)
        .order_by("pk")
    )
    held = sum(level.quantity for level in levels)
    if held and not empty_only:
        raise ValidationError(
            {
                "depots": f"{current.username}'s vehicle still holds {held} cylinders of "
                "another depot. Return them to the depot or count them off before "
                "changing the representative's depot."
            }
        )
    moved = [level for level in levels if level.quantity == 0]
    for level in moved:
        level.depot = home
        level.save(update_fields=["depot", "updated_at"])
    return len(moved)


def user_depots_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """m2m_changed receiver for User.depots: an empty vehicle follows its representative."""
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        users = [instance]
    elif pk_set:
        users = list(User.objects.filter(pk__in=pk_set, role=Role.SALES).order_by("pk"))
    else:
        return
    for user in users:
        if user.role == Role.SALES:
            vehicle_levels_follow(sales_rep=user)


def _state_check(state: str) -> str:
    if state not in StockState.values:
        raise ValidationError({"state": f"State must be FULL or EMPTY; got {state!r}."})
    return state


# --- Services ---------------------------------------------------------------------------


@atomic_with_retry
def stock_receive(
    *, depot: Depot, product: Product, quantity: int, actor: User, note: str = ""
) -> StockMovement:
    """Full cylinders received at a depot (from the filling plant)."""
    quantity = whole_number(quantity, "quantity", minimum=1)
    depot_check(depot)
    cylinder_check(product)
    actor_access_check(actor=actor, depot=depot)
    key = LevelKey(depot=depot, product=product, state=StockState.FULL)
    level = levels_lock([key])[key]
    movement = movement_post(
        kind=MovementKind.RECEIPT,
        product=product,
        state=StockState.FULL,
        quantity=quantity,
        actor=actor,
        depot=depot,
        to_level=level,
        note=note,
    )
    audit_record(
        actor=actor,
        action="stock_receive",
        obj=movement,
        depot=depot,
        data={
            "depot": depot.code,
            "product": product.code,
            "quantity": quantity,
            "balance": level.quantity,
            "note": note,
        },
    )
    return movement


@atomic_with_retry
def distribution_create(
    *,
    sales_rep: User,
    depot: Depot,
    product: Product,
    quantity: int,
    kind: str,
    actor: User,
    idempotency_key: str | None = None,
) -> Distribution:
    """COLLECTION: depot FULL -> vehicle FULL. EMPTY_RETURN: vehicle EMPTY -> depot EMPTY.

    A repeated idempotency_key (per actor) returns the distribution it first posted, for
    good; the same key with another request is refused (code idempotency_key_reused)."""
    key = key_clean(idempotency_key)
    if kind not in DistributionKind.values:
        raise ValidationError({"kind": f"Kind must be COLLECTION or EMPTY_RETURN; got {kind!r}."})
    quantity = whole_number(quantity, "quantity", minimum=1)
    returning = kind == DistributionKind.EMPTY_RETURN
    sales_rep_home_depot(sales_rep, depot, allow_inactive=returning)
    if depot is None:
        raise ValidationError({"depot": "Choose a depot."})
    if not returning:
        depot_check(depot)
    cylinder_check(product, allow_inactive=returning)
    actor_access_check(actor=actor, depot=depot, sales_rep=sales_rep)

    if kind == DistributionKind.COLLECTION:
        state = StockState.FULL
        source = LevelKey(depot=depot, product=product, state=state)
        target = LevelKey(depot=depot, product=product, state=state, sales_rep=sales_rep)
    else:
        state = StockState.EMPTY
        source = LevelKey(depot=depot, product=product, state=state, sales_rep=sales_rep)
        target = LevelKey(depot=depot, product=product, state=state)
    request = ""
    if key is not None:
        request = fingerprint(
            kind=kind, sales_rep=sales_rep, depot=depot, product=product, quantity=quantity
        )
        existing = _distribution_keyed(actor, key)
        if existing is not None:
            return _distribution_replay(existing, request)
    levels = levels_lock([source, target])
    if key is not None:
        existing = _distribution_keyed(actor, key)
        if existing is not None:  # a retry that waited for the first one's locks
            return _distribution_replay(existing, request)
    availability_check(levels[source], source, quantity, field="quantity")

    now = timezone.now()  # the distribution's created_at and its number's year
    try:
        with transaction.atomic():
            distribution = Distribution.objects.create(
                distribution_no=document_number_next(series="DST", at=now),
                kind=kind,
                sales_rep=sales_rep,
                depot=depot,
                product=product,
                quantity=quantity,
                created_by=actor,
                created_at=now,
                idempotency_key=key,
                request_fingerprint=request,
            )
    except IntegrityError:
        # The same key for other stock, committed first (it held none of our locks).
        existing = key and _distribution_keyed(actor, key)
        if existing:
            return _distribution_replay(existing, request)
        raise
    movement_post(
        kind=kind,
        product=product,
        state=state,
        quantity=quantity,
        actor=actor,
        depot=depot,
        sales_rep=sales_rep,
        from_level=levels[source],
        to_level=levels[target],
        document=distribution,
        reference=distribution.distribution_no,
    )
    audit_record(
        actor=actor,
        action="distribution_create",
        obj=distribution,
        depot=depot,
        data={
            "number": distribution.distribution_no,
            "kind": kind,
            "sales_rep": sales_rep.username,
            "depot": depot.code,
            "product": product.code,
            "quantity": quantity,
        },
    )
    return distribution


def _distribution_keyed(actor: User, key: str) -> Distribution | None:
    return Distribution.objects.filter(created_by=actor, idempotency_key=key).first()


def _distribution_replay(existing: Distribution, request: str) -> Distribution:
    return replay(
        existing,
        request_fingerprint=request,
        what=f"{existing.get_kind_display().lower()} {existing.distribution_no}",
    )


@atomic_with_retry
def stock_adjust(
    *,
    product: Product,
    state: str,
    counted: int,
    reason: str,
    actor: User,
    depot: Depot | None = None,
    sales_rep: User | None = None,
) -> StockMovement:
    """A stock count at a depot or on a vehicle; the difference is an ADJUSTMENT."""
    if (depot is None) == (sales_rep is None):
        raise ValidationError(
            {"depot": "Count either a depot or a vehicle (sales representative), not both."}
        )
    counted = whole_number(counted, "counted", minimum=0)
    state = _state_check(state)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the count differs (or that it was routine)."})
    cylinder_check(product, allow_inactive=True)
    if sales_rep is not None:
        depot = sales_rep_home_depot(sales_rep, allow_inactive=True)
    elif not depot.is_active:
        raise ValidationError({"depot": f"Depot {depot.code} is closed (inactive)."})
    actor_access_check(actor=actor, depot=depot, sales_rep=sales_rep)
    if actor.role == Role.SALES:
        raise PermissionDenied("Stock counts are recorded by a depot manager or head office.")

    key = LevelKey(depot=depot, product=product, state=state, sales_rep=sales_rep)
    level = levels_lock([key])[key]
    before = level.quantity
    difference = counted - before
    movement = movement_post(
        kind=MovementKind.ADJUSTMENT,
        product=product,
        state=state,
        quantity=abs(difference),
        actor=actor,
        depot=depot,
        sales_rep=sales_rep,
        from_level=level if difference < 0 else None,
        to_level=level if difference >= 0 else None,
        note=reason[:255],
    )
    audit_record(
        actor=actor,
        action="stock_adjust",
        obj=movement,
        depot=depot,
        data={
            "location": key.where,
            "product": product.code,
            "state": state,
            "before": before,
            "counted": counted,
            "difference": difference,
            "reason": reason,
        },
    )
    return movement
