"""Idempotency of sales: the sale an actor posted with a key, and the replay of it."""

from decimal import Decimal

from core.idempotency import fingerprint, replay
from core.models import User
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
    customer: Customer, sales_rep: User, lines: list[SaleLine], reading: Decimal | None
) -> str:
    return fingerprint(
        customer=customer,
        sales_rep=sales_rep,
        lines=sorted((line.product.pk, line.quantity, line.empties_returned) for line in lines),
        meter_reading=reading,
    )
