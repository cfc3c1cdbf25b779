"""Write-offs: cylinders damaged, lost or condemned, taken off the books with a cause and
a reason (WRITE_OFF), apart from count adjustments, so that losses show in reports."""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError

from core.db import atomic_with_retry
from core.models import Depot, Role, User
from core.scoping import actor_access_check
from core.services import audit_record
from core.services.moments import posting_moment
from stock.models import MovementKind, Product, StockMovement, WriteOffCause
from stock.services.checks import (
    availability_check,
    cylinder_check,
    state_check,
    whole_number,
)
from stock.services.counts import REASON_MAX_LENGTH, location_check, reason_clean
from stock.services.ledger import LevelKey, levels_lock, movement_post

# The ledger note is "<cause>: <reason>" in 255 characters: the reason gets what the
# longest cause leaves.
WRITE_OFF_REASON_MAX_LENGTH = REASON_MAX_LENGTH - max(len(c.label) for c in WriteOffCause) - 2


@atomic_with_retry
def stock_write_off(
    *,
    product: Product,
    state: str,
    quantity: int,
    cause: str,
    reason: str,
    actor: User,
    depot: Depot | None = None,
    sales_rep: User | None = None,
    at: datetime | None = None,
) -> StockMovement:
    """Take `quantity` cylinders of a product in a state off a depot's stock or a vehicle's
    (sales_rep): refused with the figures when it holds fewer. `cause` is a WriteOffCause
    (DAMAGED, LOST, CONDEMNED); `reason` says what happened and is required, at most
    WRITE_OFF_REASON_MAX_LENGTH characters. The ledger row's note is "<cause>: <reason>".
    Recorded by a depot manager or head office.

    `at`: the moment the write-off is posted; None means now. Only the demo seed and tests
    pass it: the admin and the API never do."""
    quantity = whole_number(quantity, "quantity", minimum=1)
    state = state_check(state)
    if cause not in WriteOffCause.values:
        causes = ", ".join(WriteOffCause.values)
        raise ValidationError(
            {
                "cause": ValidationError(
                    f"Cause must be one of {causes}; got {cause!r}.", code="invalid_cause"
                )
            }
        )
    reason = reason_clean(
        reason, "Say what happened to the cylinders.", max_length=WRITE_OFF_REASON_MAX_LENGTH
    )
    cylinder_check(product, allow_inactive=True)
    depot = location_check(
        depot,
        sales_rep,
        "Write off either a depot's stock or a vehicle's",
        hint=": reopen it (Depots) to write off its stock.",
    )
    actor_access_check(actor=actor, depot=depot, sales_rep=sales_rep)
    if actor.role == Role.SALES:
        raise PermissionDenied("Write-offs are recorded by a depot manager or head office.")

    key = LevelKey(depot=depot, product=product, state=state, sales_rep=sales_rep)
    level = levels_lock([key])[key]
    availability_check(level, key, quantity, field="quantity")
    label = WriteOffCause(cause).label
    now = posting_moment(at)  # the ledger row's and the audit entry's moment
    movement = movement_post(
        kind=MovementKind.WRITE_OFF,
        product=product,
        state=state,
        quantity=quantity,
        actor=actor,
        depot=depot,
        sales_rep=sales_rep,
        from_level=level,
        note=f"{label}: {reason}",
        at=now,
    )
    audit_record(
        actor=actor,
        action="stock_write_off",
        obj=movement,
        depot=depot,
        at=now,
        data={
            "location": key.where,
            "product": product.code,
            "state": state,
            "quantity": quantity,
            "cause": cause,
            "reason": reason,
            "balance": level.quantity,
        },
    )
    return movement
