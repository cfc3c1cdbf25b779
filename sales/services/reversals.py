"""Reversing a payment: a bounced cheque, or money recorded by mistake."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.utils import timezone

from core.db import atomic_with_retry
from core.models import OutboxKind, Role, User
from core.scoping import actor_access_check
from core.services import audit_record
from sales.models import Payment, PaymentAllocation, Transaction
from sales.selectors import customer_balance
from sales.services.common import CENT, lock_customer, settle
from sales.services.delivery import document_email

REASON_MAX_LENGTH = 255


@atomic_with_retry
def payment_reverse(*, payment: Payment, actor: User, reason: str) -> Payment:
    """Reverse a payment. It stays, marked reversed (who, when, why), and never settles
    anything again; the money it had applied to sales is taken back by new, negative
    allocations, so those sales are unpaid again and the customer owes it again. Money
    the customer still has on account (other payments) then settles the oldest unpaid
    sales, as a payment would. Head office, or a manager of the payment's depot."""
    reason = _reason_clean(reason)
    if actor.role == Role.SALES and not actor.is_superuser:
        raise PermissionDenied(
            f"{actor.username} is a sales representative; head office or the depot's "
            "manager reverses payments."
        )
    actor_access_check(actor=actor, depot=payment.depot)
    customer = lock_customer(payment.customer)
    payment = (
        Payment.objects.select_for_update(of=("self",))
        .select_related("reversed_by", "depot")
        .get(pk=payment.pk)
    )
    if payment.is_reversed:
        when = timezone.localtime(payment.reversed_at).strftime("%Y-%m-%d %H:%M")
        by = payment.reversed_by.username if payment.reversed_by else "an unknown user"
        raise ValidationError(
            f"{payment.number} was already reversed ({when} by {by}: {payment.reversal_reason}).",
            code="already_reversed",
        )

    unsettled = _allocations_reverse(payment)
    payment.allocated = Decimal("0")
    payment.reversed_at = timezone.now()
    payment.reversed_by = actor
    payment.reversal_reason = reason
    payment.save(update_fields=["allocated", "reversed_at", "reversed_by", "reversal_reason"])
    resettled = settle(customer)  # money still on account settles what is unpaid again
    # The customer who had the receipt by e-mail gets the reversal notice the same way.
    document_email(
        kind=OutboxKind.REVERSAL, document=payment, customer=customer, at=payment.reversed_at
    )

    audit_record(
        actor=actor,
        action="payment_reverse",
        obj=payment,
        depot=payment.depot,
        data={
            "number": payment.number,
            "customer": customer.code,
            "amount": str(payment.amount),
            "reason": reason,
            "unsettled": [
                {"sale": sale.number, "amount": str(amount), "due": str(sale_due(sale))}
                for sale, amount in unsettled
            ],
            "resettled": [
                {
                    "sale": a.transaction.number,
                    "payment": a.payment.number if a.payment else "deposit credit",
                    "amount": str(a.amount),
                }
                for a in resettled
            ],
            "balance_after": str(customer_balance(customer=customer)),
        },
    )
    return payment


def sale_due(sale: Transaction) -> Decimal:
    return sale.total_amount - sale.amount_paid


def _reason_clean(reason: object) -> str:
    text = " ".join(str(reason or "").split())
    if not text:
        raise ValidationError(
            {
                "reason": ValidationError(
                    "Say why the payment is reversed, e.g. 'cheque 7781 returned unpaid'.",
                    code="required",
                )
            }
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValidationError(
            {
                "reason": ValidationError(
                    "Write the reason in plain words (no control characters).",
                    code="invalid",
                )
            }
        )
    if len(text) > REASON_MAX_LENGTH:
        raise ValidationError(
            {
                "reason": ValidationError(
                    f"Use at most {REASON_MAX_LENGTH} characters; {len(text)} given.",
                    code="max_length",
                )
            }
        )
    return text


def _allocations_reverse(payment: Payment) -> list[tuple[Transaction, Decimal]]:
    """Take back what the payment settled, sale by sale, with negative allocations
    (allocations are append-only: never updated or deleted). Returns (sale, amount)."""
    per_sale = {
        sale_id: total.quantize(CENT)  # SQLite sums decimals without their places
        for sale_id, total in PaymentAllocation.objects.filter(payment=payment)
        .values("transaction")
        .annotate(total=Sum("amount"))
        .filter(total__gt=0)
        .values_list("transaction", "total")
    }
    if sum(per_sale.values(), Decimal("0")) != payment.allocated:
        raise ValidationError(
            f"{payment.number}'s allocations ({sum(per_sale.values(), Decimal('0'))}) do "
            f"not add up to what it settled ({payment.allocated}); nothing was reversed. "
            "Tell head office.",
            code="allocations_inconsistent",
        )
    unsettled, rows = [], []
    # The customer is locked: every writer of their sales takes that lock first.
    for sale in Transaction.objects.filter(pk__in=per_sale).order_by("created_at", "id"):
        amount = per_sale[sale.pk]
        rows.append(PaymentAllocation(payment=payment, transaction=sale, amount=-amount))
        sale.amount_paid -= amount
        sale.is_paid = sale.amount_paid >= sale.total_amount
        sale.save(update_fields=["amount_paid", "is_paid"])
        unsettled.append((sale, amount))
    PaymentAllocation.objects.bulk_create(rows)
    return unsettled
