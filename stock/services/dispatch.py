"""Empties leave a depot for the filling plant (PLANT_DISPATCH), against the plant's
delivery note; the full cylinders come back by stock_receive."""

from datetime import datetime

from django.core.exceptions import ValidationError

from core.db import atomic_with_retry
from core.models import Depot, User
from core.scoping import actor_access_check
from core.services import audit_record
from core.services.moments import posting_moment
from stock.models import MovementKind, Product, StockMovement, StockState
from stock.services.checks import availability_check, cylinder_check, depot_check, whole_number
from stock.services.ledger import LevelKey, levels_lock, movement_post

REFERENCE_MAX_LENGTH = 40  # StockMovement.reference, Transfer.reference


def reference_clean(reference: object, *, required: bool, what: str) -> str:
    """A document's reference (a delivery note or waybill number): text of at most 40
    characters, without control characters; `what` names it for people when missing."""
    if reference is not None and not isinstance(reference, str):
        raise ValidationError(
            {"reference": ValidationError("The reference must be text.", code="invalid")}
        )
    text = (reference or "").strip()
    if required and not text:
        raise ValidationError({"reference": ValidationError(f"Enter {what}.", code="required")})
    if len(text) > REFERENCE_MAX_LENGTH:
        raise ValidationError(
            {
                "reference": ValidationError(
                    f"Use at most {REFERENCE_MAX_LENGTH} characters; got {len(text)}.",
                    code="max_length",
                )
            }
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValidationError(
            {
                "reference": ValidationError(
                    "The reference may not hold control characters.", code="invalid"
                )
            }
        )
    return text


@atomic_with_retry
def empties_dispatch(
    *,
    depot: Depot,
    product: Product,
    quantity: int,
    actor: User,
    reference: str = "",
    at: datetime | None = None,
) -> StockMovement:
    """Empty cylinders sent from a depot to the filling plant: the depot's EMPTY level
    goes down by `quantity` (refused with the figures when it holds fewer). `reference`
    is the plant's delivery-note number, required: the plant exchange is reconciled by
    it. Only cylinders (an inactive product's empties may still go back).

    `at`: the moment the dispatch is posted; None means now. Only the demo seed and tests
    pass it: the admin and the API never do."""
    quantity = whole_number(quantity, "quantity", minimum=1)
    reference = reference_clean(
        reference, required=True, what="the filling plant's delivery-note number"
    )
    depot_check(depot)
    cylinder_check(product, allow_inactive=True)
    actor_access_check(actor=actor, depot=depot)

    key = LevelKey(depot=depot, product=product, state=StockState.EMPTY)
    level = levels_lock([key])[key]
    availability_check(level, key, quantity, field="quantity")
    now = posting_moment(at)  # the ledger row's and the audit entry's moment
    movement = movement_post(
        kind=MovementKind.PLANT_DISPATCH,
        product=product,
        state=StockState.EMPTY,
        quantity=quantity,
        actor=actor,
        depot=depot,
        from_level=level,
        reference=reference,
        at=now,
    )
    audit_record(
        actor=actor,
        action="empties_dispatch",
        obj=movement,
        depot=depot,
        at=now,
        data={
            "depot": depot.code,
            "product": product.code,
            "quantity": quantity,
            "reference": reference,
            "balance": level.quantity,
        },
    )
    return movement
