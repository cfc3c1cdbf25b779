"""Distributions: a representative collects full cylinders from their depot onto the
vehicle (the morning's load sheet), or returns empties from the vehicle to the depot.
One DST- document carries every product of the trip (distribution_post);
distribution_create is its one-line case."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.db import atomic_with_retry
from core.idempotency import fingerprint, key_clean, replay
from core.models import Depot, User
from core.scoping import actor_access_check
from core.services import audit_record, document_number_next
from core.services.moments import history_save, occurred_moment, posting_moment
from stock.models import Distribution, DistributionKind, DistributionLine, Product
from stock.services.checks import (
    availability_check,
    cylinder_check,
    depot_check,
    sales_rep_home_depot,
    whole_number,
)
from stock.services.ledger import LevelKey, Move, levels_lock, movements_post
from stock.services.lines import StockLine, stock_lines_parse


@atomic_with_retry
def distribution_post(
    *,
    sales_rep: User,
    depot: Depot,
    kind: str,
    lines: Sequence[dict[str, Any]],
    actor: User,
    idempotency_key: str | None = None,
    occurred_at: datetime | None = None,
    at: datetime | None = None,
) -> Distribution:
    """One DST- document for several products: COLLECTION takes full cylinders from the
    depot onto the vehicle, EMPTY_RETURN brings empties from the vehicle to the depot.
    lines: [{"product": Product, "quantity": int}], no product twice. Refused whole when
    any line is short (keyed lines[i].quantity, with the figures); one movement per line.

    A repeated idempotency_key (per actor) returns the distribution it first posted, for
    good; the same key with another request is refused (code idempotency_key_reused).

    `occurred_at`: when it happened (on a handheld, offline); None means when it is
    posted. Stored beside created_at; refused (naming occurred_at) when naive, in the
    future or older than SYNC_MAX_AGE_DAYS.

    `at`: the moment the distribution is posted; None means now. Only the demo seed and
    tests pass it: the admin and the API never do."""
    key = key_clean(idempotency_key)
    flow = _kind(kind)
    parsed = stock_lines_parse(lines, allow_inactive=not flow.to_vehicle)
    return _distribution_post(
        sales_rep=sales_rep,
        depot=depot,
        flow=flow,
        lines=parsed,
        fields=[f"lines[{index}].quantity" for index in range(len(parsed))],
        actor=actor,
        key=key,
        action="distribution_post",
        occurred_at=occurred_at,
        at=at,
    )


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
    occurred_at: datetime | None = None,
    at: datetime | None = None,
) -> Distribution:
    """COLLECTION: depot FULL -> vehicle FULL. EMPTY_RETURN: vehicle EMPTY -> depot EMPTY.
    A distribution of one product: distribution_post with one line, its refusals keyed
    "product" and "quantity". The same request as distribution_post's with that one line
    (an idempotency key posted by either replays with the other). `occurred_at`: as
    for distribution_post.

    `at`: the moment the distribution is posted; None means now. Only the demo seed and tests
    pass it: the admin and the API never do."""
    key = key_clean(idempotency_key)
    flow = _kind(kind)
    quantity = whole_number(quantity, "quantity", minimum=1)
    if not isinstance(product, Product):
        raise ValidationError(
            {"product": ValidationError("Choose a product.", code="product_required")}
        )
    cylinder_check(product, allow_inactive=not flow.to_vehicle)
    return _distribution_post(
        sales_rep=sales_rep,
        depot=depot,
        flow=flow,
        lines=[StockLine(product, quantity)],
        fields=["quantity"],
        actor=actor,
        key=key,
        action="distribution_create",
        occurred_at=occurred_at,
        at=at,
    )


def _kind(kind: str) -> DistributionKind:
    if kind not in DistributionKind.values:
        raise ValidationError(
            {
                "kind": ValidationError(
                    f"Kind must be COLLECTION or EMPTY_RETURN; got {kind!r}.", code="invalid_kind"
                )
            }
        )
    return DistributionKind(kind)


def _distribution_post(
    *,
    sales_rep: User,
    depot: Depot,
    flow: DistributionKind,
    lines: list[StockLine],
    fields: list[str],
    actor: User,
    key: str | None,
    action: str,
    occurred_at: datetime | None,
    at: datetime | None,
) -> Distribution:
    """Post checked lines; `fields` names each line's quantity for a shortage."""
    occurred_part = _occurred_request(occurred_at)
    returning = not flow.to_vehicle
    sales_rep_home_depot(sales_rep, depot, allow_inactive=returning)
    if depot is None:
        raise ValidationError({"depot": ValidationError("Choose a depot.", code="required")})
    if not returning:
        depot_check(depot)
    actor_access_check(actor=actor, depot=depot, sales_rep=sales_rep)

    state = flow.state
    sides: list[tuple[LevelKey, LevelKey]] = []
    for line in lines:
        at_depot = LevelKey(depot=depot, product=line.product, state=state)
        on_vehicle = LevelKey(depot=depot, product=line.product, state=state, sales_rep=sales_rep)
        sides.append((at_depot, on_vehicle) if flow.to_vehicle else (on_vehicle, at_depot))
    request = ""
    if key is not None:
        request = _fingerprint(flow, sales_rep, depot, lines, occurred_part)
        existing = _distribution_keyed(actor, key)
        if existing is not None:
            return _distribution_replay(existing, request)
    levels = levels_lock([level for pair in sides for level in pair])
    if key is not None:
        existing = _distribution_keyed(actor, key)
        if existing is not None:  # a retry that waited for the first one's locks
            return _distribution_replay(existing, request)
    # One moment for the created_at, the number's year, the ledger, history and audit;
    # when it happened beside it, checked before anything is written.
    now = posting_moment(at)
    occurred = occurred_moment(occurred_at, now=now)
    for line, (source, _), field in zip(lines, sides, fields, strict=True):
        availability_check(levels[source], source, line.quantity, field=field)

    try:
        with transaction.atomic():
            distribution = Distribution(
                distribution_no=document_number_next(series="DST", at=now),
                kind=flow.value,
                sales_rep=sales_rep,
                depot=depot,
                product=lines[0].product if len(lines) == 1 else None,
                quantity=sum(line.quantity for line in lines),
                created_by=actor,
                created_at=now,
                occurred_at=occurred,
                idempotency_key=key,
                request_fingerprint=request,
            )
            history_save(distribution, at=now)
    except IntegrityError:
        # The same key for other stock, committed first (it held none of our locks).
        existing = _distribution_keyed(actor, key) if key else None
        if existing:
            return _distribution_replay(existing, request)
        raise
    DistributionLine.objects.bulk_create(
        DistributionLine(distribution=distribution, product=line.product, quantity=line.quantity)
        for line in lines
    )
    movements_post(
        [
            Move(
                kind=flow.value,
                product=line.product,
                state=state,
                quantity=line.quantity,
                from_level=levels[source],
                to_level=levels[target],
            )
            for line, (source, target) in zip(lines, sides, strict=True)
        ],
        actor=actor,
        depot=depot,
        sales_rep=sales_rep,
        document=distribution,
        reference=distribution.distribution_no,
        at=now,
    )
    data: dict[str, Any] = {
        "number": distribution.distribution_no,
        "kind": flow.value,
        "sales_rep": sales_rep.username,
        "depot": depot.code,
        "occurred_at": occurred.isoformat(),
    }
    if len(lines) == 1:
        data |= {"product": lines[0].product.code, "quantity": lines[0].quantity}
    else:
        data |= {
            "lines": [{"product": line.product.code, "quantity": line.quantity} for line in lines],
            "quantity": distribution.quantity,
        }
    audit_record(actor=actor, action=action, obj=distribution, depot=depot, at=now, data=data)
    return distribution


def _fingerprint(
    flow: DistributionKind,
    sales_rep: User,
    depot: Depot,
    lines: list[StockLine],
    occurred: dict[str, str],
) -> str:
    """One line: the fingerprint distribution_create always took, so keys posted before
    load sheets had lines still replay. `occurred`: {} when posted live (likewise)."""
    if len(lines) == 1:
        return fingerprint(
            kind=flow.value,
            sales_rep=sales_rep,
            depot=depot,
            product=lines[0].product,
            quantity=lines[0].quantity,
            **occurred,
        )
    return fingerprint(
        kind=flow.value,
        sales_rep=sales_rep,
        depot=depot,
        lines=[[line.product.pk, line.quantity] for line in lines],
        **occurred,
    )


def _occurred_request(occurred_at: object) -> dict[str, str]:
    """What occurred_at adds to the request's fingerprint: the instant in UTC, nothing
    when None (as sales.services.sale_keys.occurred_request; stock cannot import sales).
    Not a datetime, or a naive one, is refused before any key is looked up."""
    if occurred_at is None:
        return {}
    if not isinstance(occurred_at, datetime):
        refusal = ValidationError(
            "Give when it happened as a date and time with its time zone, e.g. "
            "2026-11-30T09:15:00+08:00.",
            code="invalid",
        )
        raise ValidationError({"occurred_at": refusal})
    if timezone.is_naive(occurred_at):
        occurred_moment(occurred_at, now=timezone.now())  # refuses it: occurred_at_naive
    try:
        instant = occurred_at.astimezone(UTC)
    except OverflowError:  # the first or last day a datetime holds, at an offset
        future = occurred_at.year > timezone.now().year
        refusal = ValidationError(
            f"{occurred_at.isoformat()} is not a moment a handheld could have recorded "
            "a document at: check the handheld's clock.",
            code="occurred_at_future" if future else "occurred_at_too_old",
        )
        raise ValidationError({"occurred_at": refusal}) from None
    return {"occurred_at": instant.isoformat()}


def _distribution_keyed(actor: User, key: str) -> Distribution | None:
    return Distribution.objects.filter(created_by=actor, idempotency_key=key).first()


def _distribution_replay(existing: Distribution, request: str) -> Distribution:
    return replay(
        existing,
        request_fingerprint=request,
        what=f"{existing.get_kind_display().lower()} {existing.distribution_no}",
    )
