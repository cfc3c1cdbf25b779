"""Money received from customers."""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.db import atomic_with_retry
from core.idempotency import fingerprint, key_clean, replay
from core.models import OutboxKind, Role, User
from core.numbers import money_text
from core.scoping import actor_access_check
from core.services import audit_record, document_number_next
from core.services.moments import history_save, occurred_moment, posting_moment
from sales.models import Customer, Payment, PaymentMethod, PaymentType
from sales.selectors import customer_balance, unpaid_transactions
from sales.services.common import customer_check, decimal_value, lock_customer, settle
from sales.services.delivery import document_email
from sales.services.sale_keys import occurred_request


@atomic_with_retry
def payment_record(
    *,
    customer: Customer,
    amount: Decimal | int | str,
    actor: User,
    method: str = "CASH",
    reference: str = "",
    received_on: date | None = None,
    idempotency_key: str | None = None,
    occurred_at: datetime | None = None,
    at: datetime | None = None,
) -> Payment:
    """Record money received; it settles the customer's oldest unpaid credit sales first.
    Money beyond what is owed stays on account and settles the next credit sales.

    A repeated idempotency_key (per actor) returns the payment it first recorded; the
    same key with another payment is refused (code idempotency_key_reused).

    `received_on`: the day the money came (None: today in the business time zone); it
    may lie up to PAYMENT_BACKDATE_DAYS before the day it is recorded, never after. A
    cheque or bank transfer needs its reference (the cheque number, the bank's
    reference): a bounced cheque is traced by it.

    `occurred_at`: when the money was taken (on a handheld, offline); None means when it
    is recorded. Stored beside created_at; received_on defaults to its day. Refused
    (naming occurred_at) when naive, in the future or older than SYNC_MAX_AGE_DAYS.

    `at`: the moment the payment is recorded (created_at, number's year, allocations,
    history, audit entry); None means now. Only the demo seed and tests pass it: the
    admin and the API never do."""
    amount = decimal_value(amount, "amount", minimum=0, above=True)
    if method not in PaymentMethod.values:
        raise ValidationError(
            {
                "method": ValidationError(
                    f"Method must be one of {', '.join(PaymentMethod.values)}; got {method!r}.",
                    code="invalid_method",
                )
            }
        )
    reference = (reference or "").strip()
    if len(reference) > 100:
        raise ValidationError(
            {"reference": ValidationError("Use at most 100 characters.", code="max_length")}
        )
    if not reference and method in REFERENCE_REQUIRED:
        raise ValidationError(
            {
                "reference": ValidationError(
                    REFERENCE_REQUIRED[method],
                    code="reference_required",
                )
            }
        )
    key = key_clean(idempotency_key)
    occurred_part = occurred_request(occurred_at)  # a naive moment is refused here
    request = ""
    if key is not None:
        # received_on only when given: a retry tomorrow of "today" is the same request,
        # and the fingerprints of payments keyed before received_on stay as they were.
        # occurred_at likewise.
        dated = {} if received_on is None else {"received_on": str(received_on)}
        request = fingerprint(
            customer=customer,
            amount=amount,
            method=method,
            reference=reference,
            **dated,
            **occurred_part,
        )
        existing = _keyed(actor, key)
        if existing is not None:
            return _replay(existing, request)
    now = posting_moment(at)
    occurred = occurred_moment(occurred_at, now=now)
    if received_on is None and occurred_at is not None:
        received_on = timezone.localdate(occurred)  # the day it was taken, not synced
    received_on = received_on_check(received_on, now=now)
    ceiling = settings.PAYMENT_MAX_AMOUNT
    if amount > ceiling:
        raise ValidationError(
            {
                "amount": ValidationError(
                    f"A payment of {money_text(amount)} is above the most one payment may "
                    f"be ({money_text(ceiling)}); check the amount.",
                    code="payment_max_amount",
                )
            }
        )
    customer_check(customer)
    actor_access_check(
        actor=actor,
        depot=customer.depot,
        sales_rep=actor if actor.role == Role.SALES else None,
    )
    customer = lock_customer(customer)
    if key is not None:
        existing = _keyed(actor, key)
        if existing is not None:  # a retry that waited for the first one's lock
            return _replay(existing, request)
    if (
        customer.payment_type == PaymentType.CASH
        and not unpaid_transactions(customer=customer).exists()
    ):
        raise ValidationError(
            {
                "customer": ValidationError(
                    f"Customer {customer.code} pays cash at each sale and owes nothing; "
                    "payments are recorded for credit customers.",
                    code="cash_customer_owes_nothing",
                )
            }
        )
    # One moment (now) for the created_at, the number's year, the allocations, history
    # and audit.
    try:
        with transaction.atomic():
            payment = Payment(
                number=document_number_next(series="PAY", at=now),
                customer=customer,
                depot=customer.depot,
                amount=amount,
                method=method,
                reference=reference,
                received_by=actor,
                received_on=received_on,
                created_at=now,
                occurred_at=occurred,
                idempotency_key=key,
                request_fingerprint=request,
            )
            history_save(payment, at=now)
    except IntegrityError:
        # The same key for another customer, committed first (it held no lock of ours).
        existing = _keyed(actor, key) if key else None
        if existing:
            return _replay(existing, request)
        raise
    allocations = settle(customer, at=now)
    audit_record(
        actor=actor,
        action="payment_record",
        obj=payment,
        depot=customer.depot,
        at=now,
        data={
            "number": payment.number,
            "customer": customer.code,
            "amount": str(amount),
            "method": method,
            "reference": reference,
            "received_on": received_on.isoformat(),
            "occurred_at": occurred.isoformat(),
            "settled": [
                {"sale": a.transaction.number, "amount": str(a.amount)}
                for a in allocations
                if a.payment_id == payment.pk
            ],
            "balance_after": str(customer_balance(customer=customer)),
            "idempotency_key": key,
        },
    )
    document_email(kind=OutboxKind.RECEIPT, document=payment, customer=customer, at=now)
    payment.refresh_from_db(fields=["allocated"])
    return payment


# Methods whose money is traced by a reference, and what to ask for.
REFERENCE_REQUIRED: dict[str, str] = {
    PaymentMethod.CHEQUE: "Enter the cheque number: a cheque that bounces is traced by it.",
    PaymentMethod.BANK: "Enter the bank's reference of the transfer.",
}


def received_on_check(value: date | None, *, now: datetime) -> date:
    """The day a payment was received: `value` (None: the day of `now` in the business
    time zone), no later than that day and at most PAYMENT_BACKDATE_DAYS before it."""
    today = timezone.localdate(now)
    if value is None:
        return today
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationError(
            {"received_on": ValidationError("Enter a date (YYYY-MM-DD).", code="invalid")}
        )
    if value > today:
        raise ValidationError(
            {
                "received_on": ValidationError(
                    f"The money cannot be received after today ({today}); got {value}.",
                    code="received_on_future",
                )
            }
        )
    days = settings.PAYMENT_BACKDATE_DAYS
    if value < today - timedelta(days=days):
        raise ValidationError(
            {
                "received_on": ValidationError(
                    f"A payment may be dated at most {days} days back "
                    f"({today - timedelta(days=days)}); got {value}.",
                    code="received_on_too_old",
                )
            }
        )
    return value


def _keyed(actor: User, key: str) -> Payment | None:
    return Payment.objects.filter(received_by=actor, idempotency_key=key).first()


def _replay(existing: Payment, request: str) -> Payment:
    return replay(existing, request_fingerprint=request, what=f"payment {existing.number}")
