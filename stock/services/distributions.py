"""Distributions: a representative collects full cylinders from their depot onto the
vehicle, or returns empties from the vehicle to the depot."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.db import atomic_with_retry
from core.idempotency import fingerprint, key_clean, replay
from core.models import Depot, User
from core.scoping import actor_access_check
from core.services import audit_record, document_number_next
from core.services.moments import history_save, posting_moment
from stock.models import Distribution, DistributionKind, Product
from stock.services.checks import (
    availability_check,
    cylinder_check,
    depot_check,
    sales_rep_home_depot,
    whole_number,
)
from stock.services.ledger import LevelKey, levels_lock, movement_post


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
    at: datetime | None = None,
) -> Distribution:
    """COLLECTION: depot FULL -> vehicle FULL. EMPTY_RETURN: vehicle EMPTY -> depot EMPTY.

    A repeated idempotency_key (per actor) returns the distribution it first posted, for
    good; the same key with another request is refused (code idempotency_key_reused).

    `at`: the moment the distribution is posted; None means now. Only the demo seed and
    tests pass it: the admin and the API never do."""
    key = key_clean(idempotency_key)
    if kind not in DistributionKind.values:
        raise ValidationError(
            {
                "kind": ValidationError(
                    f"Kind must be COLLECTION or EMPTY_RETURN; got {kind!r}.", code="invalid_kind"
                )
            }
        )
    quantity = whole_number(quantity, "quantity", minimum=1)
    flow = DistributionKind(kind)
    returning = not flow.to_vehicle
    sales_rep_home_depot(sales_rep, depot, allow_inactive=returning)
    if depot is None:
        raise ValidationError({"depot": ValidationError("Choose a depot.", code="required")})
    if not returning:
        depot_check(depot)
    cylinder_check(product, allow_inactive=returning)
    actor_access_check(actor=actor, depot=depot, sales_rep=sales_rep)

    state = flow.state
    at_depot = LevelKey(depot=depot, product=product, state=state)
    on_vehicle = LevelKey(depot=depot, product=product, state=state, sales_rep=sales_rep)
    source, target = (at_depot, on_vehicle) if flow.to_vehicle else (on_vehicle, at_depot)
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

    # One moment for the created_at, the number's year, the ledger, history and audit.
    now = posting_moment(at)
    try:
        with transaction.atomic():
            distribution = Distribution(
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
            history_save(distribution, at=now)
    except IntegrityError:
        # The same key for other stock, committed first (it held none of our locks).
        existing = _distribution_keyed(actor, key) if key else None
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
        at=now,
    )
    audit_record(
        actor=actor,
        action="distribution_create",
        obj=distribution,
        depot=depot,
        at=now,
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
