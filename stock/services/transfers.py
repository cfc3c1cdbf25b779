"""Transfers: cylinders (all full or all empty) moved from one depot to another on one
TRF- document with a line per product.

Each line is one TRANSFER movement out of the sending depot's level and into the
receiving depot's: its `depot` is the sending depot (from_level's), its to_level is at
the receiving one, so a depot's movements are those with depot = it or to_level at it
(stock.selectors.depot_movements)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.db import atomic_with_retry
from core.idempotency import fingerprint, key_clean, replay
from core.models import Depot, User
from core.scoping import actor_access_check
from core.services import audit_record, depot_open_check, document_number_next
from core.services.moments import history_save, posting_moment
from stock.models import MovementKind, Transfer, TransferLine
from stock.services.checks import CLOSED_DEPOT_HINT, availability_check, state_check
from stock.services.dispatch import reference_clean
from stock.services.ledger import LevelKey, Move, levels_lock, movements_post
from stock.services.lines import stock_lines_parse


@atomic_with_retry
def stock_transfer(
    *,
    from_depot: Depot,
    to_depot: Depot,
    lines: Sequence[dict[str, Any]],
    actor: User,
    state: str = "FULL",
    reference: str = "",
    idempotency_key: str | None = None,
    at: datetime | None = None,
) -> Transfer:
    """Move cylinders in `state` from one depot to another. lines: [{"product": Product,
    "quantity": int}], no product twice; refused whole when any line is short (keyed
    lines[i].quantity, with the figures). `reference`: e.g. the waybill number. The
    actor must work for the sending depot (a manager: one of theirs).

    Both depots' levels are locked in one call (id order), so transfers in opposite
    directions never wait for each other in a cycle.

    A repeated idempotency_key (per actor) returns the transfer it first posted, for
    good; the same key with another request is refused (code idempotency_key_reused).

    `at`: the moment the transfer is posted; None means now. Only the demo seed and tests
    pass it: the admin and the API never do."""
    key = key_clean(idempotency_key)
    state = state_check(state)
    reference = reference_clean(reference, required=False, what="the reference")
    parsed = stock_lines_parse(lines, allow_inactive=state == "EMPTY")
    for field, depot in (("from_depot", from_depot), ("to_depot", to_depot)):
        if not isinstance(depot, Depot):
            raise ValidationError({field: ValidationError("Choose a depot.", code="required")})
        depot_open_check(depot, field=field, hint=CLOSED_DEPOT_HINT)
    if from_depot.pk == to_depot.pk:
        raise ValidationError(
            {
                "to_depot": ValidationError(
                    f"The cylinders are already at depot {to_depot.code}: choose another "
                    "depot to send them to.",
                    code="same_depot",
                )
            }
        )
    actor_access_check(actor=actor, depot=from_depot)

    sides = [
        (
            LevelKey(depot=from_depot, product=line.product, state=state),
            LevelKey(depot=to_depot, product=line.product, state=state),
        )
        for line in parsed
    ]
    request = ""
    if key is not None:
        request = fingerprint(
            from_depot=from_depot,
            to_depot=to_depot,
            state=state,
            reference=reference,
            lines=[[line.product.pk, line.quantity] for line in parsed],
        )
        existing = _transfer_keyed(actor, key)
        if existing is not None:
            return _transfer_replay(existing, request)
    levels = levels_lock([level for pair in sides for level in pair])
    if key is not None:
        existing = _transfer_keyed(actor, key)
        if existing is not None:  # a retry that waited for the first one's locks
            return _transfer_replay(existing, request)
    for index, (line, (source, _)) in enumerate(zip(parsed, sides, strict=True)):
        availability_check(levels[source], source, line.quantity, field=f"lines[{index}].quantity")

    now = posting_moment(at)  # the created_at, the number's year, ledger, history, audit
    try:
        with transaction.atomic():
            transfer = Transfer(
                number=document_number_next(series="TRF", at=now),
                from_depot=from_depot,
                to_depot=to_depot,
                state=state,
                reference=reference,
                created_by=actor,
                created_at=now,
                idempotency_key=key,
                request_fingerprint=request,
            )
            history_save(transfer, at=now)
    except IntegrityError:
        # The same key for another transfer, committed first (it held none of our locks).
        existing = _transfer_keyed(actor, key) if key else None
        if existing:
            return _transfer_replay(existing, request)
        raise
    TransferLine.objects.bulk_create(
        TransferLine(transfer=transfer, product=line.product, quantity=line.quantity)
        for line in parsed
    )
    movements_post(
        [
            Move(
                kind=MovementKind.TRANSFER,
                product=line.product,
                state=state,
                quantity=line.quantity,
                from_level=levels[source],
                to_level=levels[target],
            )
            for line, (source, target) in zip(parsed, sides, strict=True)
        ],
        actor=actor,
        depot=from_depot,
        document=transfer,
        reference=transfer.number,
        note=f"To depot {to_depot.code}" + (f"; {reference}" if reference else ""),
        at=now,
    )
    audit_record(
        actor=actor,
        action="stock_transfer",
        obj=transfer,
        depot=from_depot,
        at=now,
        data={
            "number": transfer.number,
            "from_depot": from_depot.code,
            "to_depot": to_depot.code,
            "state": state,
            "reference": reference,
            "lines": [{"product": line.product.code, "quantity": line.quantity} for line in parsed],
        },
    )
    return transfer


def _transfer_keyed(actor: User, key: str) -> Transfer | None:
    return Transfer.objects.filter(created_by=actor, idempotency_key=key).first()


def _transfer_replay(existing: Transfer, request: str) -> Transfer:
    return replay(existing, request_fingerprint=request, what=f"transfer {existing.number}")
