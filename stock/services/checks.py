"""Input checks of stock postings: each names the field and the problem, and writes
nothing. sales.services uses them too."""

from django.core.exceptions import ValidationError
from django.db import connection

from core.models import Depot, Role, User
from core.numbers import plain_whole
from core.services import depot_open_check
from stock.models import Product, ProductKind, StockLevel, StockState
from stock.services.ledger import LevelKey

MAX_QUANTITY = 1_000_000  # far above any real load; keeps int columns safe


def whole_number(value: object, field: str, *, minimum: int) -> int:
    """A count from an int or a string of ASCII digits (core.numbers: not 1.0, "1.0",
    "1e0", True or non-ASCII digits), within minimum..MAX_QUANTITY."""
    try:
        value = plain_whole(value)
    except ValueError:
        raise ValidationError(
            {
                field: ValidationError(
                    f"Enter a whole number; got {value!r}.", code="not_whole_number"
                )
            }
        ) from None
    if value < minimum:
        bound = "above zero" if minimum == 1 else "of zero or more"
        raise ValidationError(
            {
                field: ValidationError(
                    f"Enter a whole number {bound}; got {value}.", code="quantity_too_small"
                )
            }
        )
    if value > MAX_QUANTITY:
        raise ValidationError(
            {
                field: ValidationError(
                    f"{value} is more than {MAX_QUANTITY:,} cylinders; check the figure.",
                    code="quantity_too_large",
                )
            }
        )
    return value


def cylinder_check(product: Product, *, allow_inactive: bool = False) -> None:
    """Only cylinders have stock. Inactive products may still be returned and counted
    (stock already out there must be able to come back), never received or sold."""
    if not product.is_active and not allow_inactive:
        raise ValidationError(
            {
                "product": ValidationError(
                    f"{product.code} is no longer sold (inactive).", code="product_inactive"
                )
            }
        )
    if not product.is_cylinder:
        why = (
            "is a service; it is never stocked"
            if product.kind == ProductKind.SERVICE
            else "is sold by meter reading; it has no cylinder stock"
        )
        raise ValidationError(
            {"product": ValidationError(f"{product.code} {why}.", code="product_not_cylinder")}
        )


CLOSED_DEPOT_HINT = ": reopen it (Depots) to move its stock."


def depot_check(depot: Depot | None, *, hint: str = CLOSED_DEPOT_HINT) -> None:
    """A depot chosen and open; a closed one is refused with `hint`, what to do first."""
    if depot is None:
        raise ValidationError({"depot": ValidationError("Choose a depot.", code="required")})
    depot_open_check(depot, hint=hint)


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
    role, is_active, home_id, home = _sales_rep_read(sales_rep, lock=lock)
    if role != Role.SALES or not (is_active or allow_inactive):
        raise ValidationError(
            {
                "sales_rep": ValidationError(
                    f"{sales_rep.username} is not an active sales representative.",
                    code="not_active_sales_rep",
                )
            }
        )
    if home_id is None:
        raise ValidationError(
            {
                "sales_rep": ValidationError(
                    f"{sales_rep.username} has no home depot.", code="no_home_depot"
                )
            }
        )
    if depot is not None and home_id == depot.pk:
        return depot
    if home is None:
        home = Depot.objects.get(pk=home_id)
    if depot is not None:
        raise ValidationError(
            {
                "depot": ValidationError(
                    f"{sales_rep.username} works from depot {home.code}, not {depot.code}.",
                    code="sales_rep_other_depot",
                )
            }
        )
    return home


def _sales_rep_read(
    sales_rep: User, *, lock: bool
) -> tuple[str | None, bool, int | None, Depot | None]:
    """(role, is_active, home depot id, home depot or None) of a representative. With
    lock, inside a transaction on PostgreSQL, the user row is locked FOR SHARE first
    (Django's select_for_update has no shared mode) and the depot's id read by a second
    statement: a statement that waited for a lock still sees other tables as they were
    when it began. Without a lock one statement reads all of it, the depot's row too.
    SQLite runs one writer at a time."""
    users = connection.ops.quote_name(User._meta.db_table)
    through = connection.ops.quote_name(User.depots.through._meta.db_table)
    depots = connection.ops.quote_name(Depot._meta.db_table)
    home = (
        f"SELECT ud.depot_id FROM {through} ud JOIN {depots} hd ON hd.id = ud.depot_id "  # noqa: S608
        "WHERE ud.user_id = %s ORDER BY hd.code LIMIT 1"
    )
    locking = lock and connection.features.has_select_for_update and connection.in_atomic_block
    with connection.cursor() as cursor:
        if not locking:
            fields = list(Depot._meta.concrete_fields)
            columns = ", ".join(f"d.{connection.ops.quote_name(f.column)}" for f in fields)
            cursor.execute(
                f"SELECT u.role, u.is_active, {columns} FROM {users} u "  # noqa: S608
                f"LEFT JOIN {depots} d ON d.id = ({home}) WHERE u.id = %s",
                [sales_rep.pk, sales_rep.pk],
            )
            row = cursor.fetchone()
            if row is None:
                return None, False, None, None
            if row[2] is None:
                return row[0], row[1], None, None
            values = [f.to_python(v) for f, v in zip(fields, row[2:], strict=True)]  # 1: True
            depot = Depot.from_db(connection.alias, [f.attname for f in fields], values)
            return row[0], row[1], depot.pk, depot
        cursor.execute(
            f"SELECT role, is_active FROM {users} WHERE id = %s FOR SHARE",  # noqa: S608
            [sales_rep.pk],
        )
        row = cursor.fetchone()
        if row is None:
            return None, False, None, None
        cursor.execute(home, [sales_rep.pk])
        found = cursor.fetchone()
    return row[0], row[1], found[0] if found else None, None


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


def state_check(state: str) -> str:
    if state not in StockState.values:
        raise ValidationError(
            {
                "state": ValidationError(
                    f"State must be FULL or EMPTY; got {state!r}.", code="invalid_state"
                )
            }
        )
    return state
