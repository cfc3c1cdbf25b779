"""What the customer's page reads beside its master data: what they owe by the age of the
invoices it is on, and their latest documents. Reads only, a fixed number of queries
whatever the customer's history."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from sales.models import CreditNote, Customer, Payment, PaymentType, Transaction, TransactionStatus
from sales.selectors import customer_balance

ZERO = Decimal("0.00")
AGEING_LABELS = ("0 to 30 days", "31 to 60 days", "61 to 90 days", "Over 90 days")
RECENT = 10


@dataclass(frozen=True)
class Ageing:
    """What a credit customer owes now, spread over their newest unvoided credit sales
    (payments settle the oldest first, so what is owed is on the newest), each into the
    bucket of its age in days since the sale happened: the statement's balance-forward
    rule, read at today."""

    balance: Decimal
    buckets: tuple[Decimal, Decimal, Decimal, Decimal]

    def labelled(self) -> list[tuple[str, Decimal]]:
        return list(zip(AGEING_LABELS, self.buckets, strict=True))

    @property
    def overdue(self) -> Decimal:
        """Owed on invoices older than 30 days."""
        return sum(self.buckets[1:], ZERO)


def customer_ageing(*, customer: Customer, today: date | None = None) -> Ageing:
    balance = customer_balance(customer=customer)
    buckets = [ZERO, ZERO, ZERO, ZERO]
    remaining = balance
    if remaining > 0:
        today = today or timezone.localdate(timezone.now(), timezone.get_default_timezone())
        invoices = (
            Transaction.objects.filter(customer=customer, payment_type=PaymentType.CREDIT)
            .exclude(status=TransactionStatus.VOID)
            .order_by("-occurred_at", "-id")
            .values_list("occurred_at", "total_amount")
        )
        for happened, total in invoices.iterator(chunk_size=200):
            share = min(total, remaining)
            age = (today - timezone.localdate(happened, timezone.get_default_timezone())).days
            buckets[0 if age <= 30 else 1 if age <= 60 else 2 if age <= 90 else 3] += share
            remaining -= share
            if remaining <= 0:
                break
        buckets[3] += max(remaining, ZERO)  # never in practice: invoices cover the balance
    return Ageing(balance=balance, buckets=(buckets[0], buckets[1], buckets[2], buckets[3]))


def recent_sales(*, customer: Customer, limit: int = RECENT) -> QuerySet[Transaction]:
    """The customer's latest sales, newest first (by when they happened)."""
    return Transaction.objects.filter(customer=customer).order_by("-occurred_at", "-id")[:limit]


def recent_payments(*, customer: Customer, limit: int = RECENT) -> QuerySet[Payment]:
    return Payment.objects.filter(customer=customer).order_by("-occurred_at", "-id")[:limit]


def recent_credit_notes(*, customer: Customer, limit: int = RECENT) -> QuerySet[CreditNote]:
    return (
        CreditNote.objects.filter(transaction__customer=customer)
        .select_related("transaction")
        .order_by("-created_at", "-id")[:limit]
    )
