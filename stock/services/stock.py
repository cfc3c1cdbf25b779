"""Stock at a depot or on a vehicle: receipts from the filling plant and counts."""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError

from core.db import atomic_with_retry
from core.models import Depot, Role, User
from core.scoping import actor_access_check
from core.services import audit_record, depot_open_check
from core.services.moments import posting_moment
from stock.models import MovementKind, Product, StockMovement, StockState
from stock.services.checks import (
    cylinder_check,
    depot_check,
    sales_rep_home_depot,
    state_check,
    whole_number,
)
from stock.services.ledger import LevelKey, levels_lock, movement_post


@atomic_with_retry
def stock_receive(
    *,
    depot: Depot,
    product: Product,
    quantity: int,
    actor: User,
    note: str = "",
    at: datetime | None = None,
) -> StockMovement:
    """Full cylinders received at a depot (from the filling plant).

    `at`: the moment the receipt is posted; None means now. Only the demo seed and tests
    pass it: the admin and the API never do."""
    quantity = whole_number(quantity, "quantity", minimum=1)
    depot_check(depot)
    cylinder_check(product)
    actor_access_check(actor=actor, depot=depot)
    key = LevelKey(depot=depot, product=product, state=StockState.FULL)
    level = levels_lock([key])[key]
    now = posting_moment(at)  # the ledger row's and the audit entry's moment
    movement = movement_post(
        kind=MovementKind.RECEIPT,
        product=product,
        state=StockState.FULL,
        quantity=quantity,
        actor=actor,
        depot=depot,
        to_level=level,
        note=note,
        at=now,
    )
    audit_record(
        actor=actor,
        action="stock_receive",
        obj=movement,
        depot=depot,
        at=now,
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
def stock_adjust(
    *,
    product: Product,
    state: str,
    counted: int,
    reason: str,
    actor: User,
    depot: Depot | None = None,
    sales_rep: User | None = None,
    at: datetime | None = None,
) -> StockMovement:
    """A stock count at a depot or on a vehicle; the difference is an ADJUSTMENT.

    `at`: the moment the count is posted; None means now. Only the demo seed and tests
    pass it: the admin and the API never do."""
    counted = whole_number(counted, "counted", minimum=0)
    state = state_check(state)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {
                "reason": ValidationError(
                    "Say why the count differs (or that it was routine).", code="required"
                )
            }
        )
    cylinder_check(product, allow_inactive=True)
    if sales_rep is not None and depot is None:
        depot = sales_rep_home_depot(sales_rep, allow_inactive=True)
    elif depot is None or sales_rep is not None:
        raise ValidationError(
            {
                "depot": ValidationError(
                    "Count either a depot or a vehicle (sales representative), not both.",
                    code="depot_or_vehicle",
                )
            }
        )
    else:
        depot_open_check(depot, hint=": reopen it (Depots) to count its stock.")
    actor_access_check(actor=actor, depot=depot, sales_rep=sales_rep)
    if actor.role == Role.SALES:
        raise PermissionDenied("Stock counts are recorded by a depot manager or head office.")

    key = LevelKey(depot=depot, product=product, state=state, sales_rep=sales_rep)
    level = levels_lock([key])[key]
    before = level.quantity
    difference = counted - before
    now = posting_moment(at)  # the ledger row's and the audit entry's moment
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
        at=now,
    )
    audit_record(
        actor=actor,
        action="stock_adjust",
        obj=movement,
        depot=depot,
        at=now,
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
