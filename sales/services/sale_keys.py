"""Idempotency of sales: the sale an actor posted with a key, and the replay of it; and
what when a document happened (occurred_at) adds to any document's request."""

from datetime import UTC, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone

from core.idempotency import fingerprint, replay
from core.models import User
from core.services.moments import occurred_moment
from sales.models import Customer, Transaction
from sales.services.lines import SaleLine


def sale_keyed(actor: User, key: str) -> Transaction | None:
    """The actor's sale with this key. Sales posted through the API before keys were kept
    per user hold it as "api:<user id>:<key>"; those rows are not rewritten (millions of
    them, on a live table), so that form is matched too."""
    return (
        Transaction.objects.filter(
            created_by=actor, idempotency_key__in=[key, f"api:{actor.pk}:{key}"]
        )
        .order_by("pk")
        .first()
    )


def sale_replay(
    existing: Transaction, customer: Customer, sales_rep: User, request: str
) -> Transaction:
    """The sale posted earlier with this key, if this is the same request again."""
    return replay(
        existing,
        request_fingerprint=request,
        what=f"sale {existing.number}",
        # sales posted before fingerprints were kept: compare what can be compared
        legacy_same=lambda: (
            (existing.customer_id, existing.sales_rep_id) == (customer.pk, sales_rep.pk)
        ),
    )


def sale_fingerprint(
    customer: Customer,
    sales_rep: User,
    lines: list[SaleLine],
    reading: Decimal | None,
    occurred: dict[str, str] | None = None,
) -> str:
    """`occurred`: occurred_request's part, {} when the sale was posted live."""
    return fingerprint(
        customer=customer,
        sales_rep=sales_rep,
        lines=sorted((line.product.pk, line.quantity, line.empties_returned) for line in lines),
        meter_reading=reading,
        **(occurred or {}),
    )


def occurred_request(occurred_at: object) -> dict[str, str]:
    """What `occurred_at` adds to a document's request fingerprint: the instant in UTC
    (the same moment written with another offset is the same request), nothing when it is
    None (posted live: a retry is "now" again, and keys fingerprinted before documents had
    occurred_at still replay). Not a datetime, or a naive one, is refused here, before any
    key is looked up; whether it lies in the accepted window is checked at posting."""
    if occurred_at is None:
        return {}
    if not isinstance(occurred_at, datetime):
        raise ValidationError(
            {
                "occurred_at": ValidationError(
                    "Give when it happened as a date and time with its time zone, e.g. "
                    "2026-11-30T09:15:00+08:00.",
                    code="invalid",
                )
            }
        )
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
