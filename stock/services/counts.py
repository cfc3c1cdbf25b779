"""Count sheets: every product and state of a depot or a vehicle counted on one CNT-
document; each line that differs from the system's figure is one ADJUSTMENT."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError

from core.db import atomic_with_retry
from core.models import Depot, Role, User
from core.scoping import actor_access_check
from core.services import audit_record, depot_open_check, document_number_next
from core.services.moments import posting_moment
from stock.models import MovementKind, StockCount, StockCountLine
from stock.services.checks import sales_rep_home_depot
from stock.services.ledger import LevelKey, Move, levels_lock, movements_post
from stock.services.lines import count_lines_parse

REASON_MAX_LENGTH = 255  # StockCount.reason, StockMovement.note


def reason_clean(reason: object, hint: str, *, max_length: int = REASON_MAX_LENGTH) -> str:
    """A required reason: text, at most `max_length` characters (255: the column);
    `hint` says what to write."""
    if reason is not None and not isinstance(reason, str):
        raise ValidationError(
            {"reason": ValidationError("Write the reason as text.", code="invalid")}
        )
    text = (reason or "").strip()
    if not text:
        raise ValidationError({"reason": ValidationError(hint, code="required")})
    if len(text) > max_length:
        raise ValidationError(
            {
                "reason": ValidationError(
                    f"Keep the reason to at most {max_length} characters; got {len(text)}.",
                    code="max_length",
                )
            }
        )
    return text


def location_check(
    depot: Depot | None, sales_rep: User | None, what: str, *, hint: str = ""
) -> Depot:
    """A depot's own stock (open), or a representative's vehicle (sales_rep, depot None:
    their home depot, returned; an inactive representative's vehicle too). `what` begins
    the refusal when both or neither are named; `hint` follows the refusal of a closed
    depot (what to do first)."""
    if sales_rep is not None and depot is None:
        return sales_rep_home_depot(sales_rep, allow_inactive=True)
    if depot is None or sales_rep is not None:
        raise ValidationError(
            {
                "depot": ValidationError(
                    f"{what} (sales representative), not both.", code="depot_or_vehicle"
                )
            }
        )
    depot_open_check(depot, hint=hint)
    return depot


@atomic_with_retry
def stock_count_post(
    *,
    lines: Sequence[dict[str, Any]],
    reason: str,
    actor: User,
    depot: Depot | None = None,
    sales_rep: User | None = None,
    at: datetime | None = None,
) -> StockCount:
    """A count sheet of a depot's stock or a vehicle's (sales_rep). lines: [{"product":
    Product, "state": "FULL" | "EMPTY", "counted": int}], no product and state twice.
    Each line keeps the system's figure read under the level locks; each line that
    differs is one ADJUSTMENT to the counted figure (reference: the CNT- number, note: the
    reason). Recorded by a depot manager or head office.

    `at`: the moment the count is posted; None means now. Only the demo seed and tests
    pass it: the admin and the API never do."""
    reason = reason_clean(reason, "Say why the stock was counted (routine, a loss...).")
    parsed = count_lines_parse(lines)
    depot = location_check(
        depot,
        sales_rep,
        "Count either a depot or a vehicle",
        hint=": reopen it (Depots) to count its stock.",
    )
    actor_access_check(actor=actor, depot=depot, sales_rep=sales_rep)
    if actor.role == Role.SALES:
        raise PermissionDenied("Stock counts are recorded by a depot manager or head office.")

    keys = [
        LevelKey(depot=depot, product=line.product, state=line.state, sales_rep=sales_rep)
        for line in parsed
    ]
    levels = levels_lock(keys)
    system = [levels[key].quantity for key in keys]  # before the adjustments move them
    now = posting_moment(at)  # the count's, its number's year, the ledger's and audit's
    count = StockCount.objects.create(
        number=document_number_next(series="CNT", at=now),
        depot=depot,
        sales_rep=sales_rep,
        reason=reason,
        created_by=actor,
        created_at=now,
    )
    StockCountLine.objects.bulk_create(
        StockCountLine(
            count=count,
            product=line.product,
            state=line.state,
            system_quantity=before,
            counted=line.counted,
        )
        for line, before in zip(parsed, system, strict=True)
    )
    moves = [
        Move(
            kind=MovementKind.ADJUSTMENT,
            product=line.product,
            state=line.state,
            quantity=abs(line.counted - before),
            from_level=levels[key] if line.counted < before else None,
            to_level=levels[key] if line.counted > before else None,
        )
        for line, key, before in zip(parsed, keys, system, strict=True)
        if line.counted != before
    ]
    if moves:
        movements_post(
            moves,
            actor=actor,
            depot=depot,
            sales_rep=sales_rep,
            document=count,
            reference=count.number,
            note=reason,
            at=now,
        )
    where = keys[0].where
    audit_record(
        actor=actor,
        action="stock_count_post",
        obj=count,
        depot=depot,
        at=now,
        data={
            "number": count.number,
            "location": where,
            "reason": reason,
            "lines": [
                {
                    "product": line.product.code,
                    "state": line.state,
                    "system": before,
                    "counted": line.counted,
                }
                for line, before in zip(parsed, system, strict=True)
            ],
        },
    )
    return count
