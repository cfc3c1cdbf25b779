"""Input checks and money helpers shared by the sales services."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db.models import Sum

from core.numbers import plain_decimal
from core.services.moments import history_save, posting_moment
from sales.custody_models import HoldingEntry, RefundTo
from sales.models import Customer, Payment, PaymentAllocation, Transaction
from sales.selectors import unpaid_transactions

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


MAX_AMOUNT = Decimal("999999999999.99")  # what a 14-digit money column holds
MAX_READING = Decimal("9999999999.99")  # what a 12-digit meter column holds


def decimal_value(
    value: object,
    field: str,
    *,
    minimum: Decimal | int | None = None,
    above: bool = False,
    maximum: Decimal = MAX_AMOUNT,
) -> Decimal:
    """A decimal with at most two places, from a Decimal, an int or a plain decimal
    string such as "1234.50" (core.numbers: no float, exponent, grouping or non-ASCII
    digits)."""
    try:
        number = plain_decimal(value)
    except ValueError:
        raise ValidationError(
            {
                field: ValidationError(
                    f"Enter an amount such as 1234.50; got {value!r}.", code="not_an_amount"
                )
            }
        ) from None
    if number > maximum:
        raise ValidationError(
            {
                field: ValidationError(
                    f"{number} is larger than {maximum}; check the figure.",
                    code="amount_too_large",
                )
            }
        )
    if minimum is not None and (number <= minimum if above else number < minimum):
        bound = f"above {minimum}" if above else f"{minimum} or more"
        raise ValidationError(
            {field: ValidationError(f"Must be {bound}; got {number}.", code="amount_too_small")}
        )
    if number < -maximum:
        raise ValidationError(
            {
                field: ValidationError(
                    f"{number} is smaller than -{maximum}; check the figure.",
                    code="amount_too_small",
                )
            }
        )
    if number != number.quantize(CENT):
        raise ValidationError(
            {
                field: ValidationError(
                    f"Use at most two decimal places; got {value}.", code="too_many_decimals"
                )
            }
        )
    return number.quantize(CENT)


def money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def customer_check(customer: Customer) -> None:
    if not customer.is_active:
        raise ValidationError(
            {
                "customer": ValidationError(
                    f"Customer {customer.code} ({customer.name}) is inactive.",
                    code="customer_inactive",
                )
            }
        )


def lock_customer(customer: Customer) -> Customer:
    """Lock the customer row: the first lock of every sales transaction."""
    return Customer.objects.select_for_update().get(pk=customer.pk)


def lock_customers(customer_ids: Iterable[int]) -> None:
    """Lock several customers first, in id order: for one transaction that changes many
    customers' rates (an import, its undo). Locked one by one as it goes, it would wait
    for a customer's sale while holding the audit chain, which that sale waits for."""
    ids = sorted(set(customer_ids))
    list(Customer.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk"))


@dataclass
class _Money:
    """Money on account that can settle sales: a payment's, or (payment None) the
    deposit refunds credited to the account."""

    payment: Payment | None
    available: Decimal


def settle(customer: Customer, *, at: datetime | None = None) -> list[PaymentAllocation]:
    """Apply money on account to the oldest unpaid credit sales first: unallocated
    payment money, then the deposit refunds credited to the account (cylinder returns,
    voids) not yet applied. Those are allocations without a payment. When the deposit
    credit falls below what was applied from it (a void took a refund back), the
    newest sales it settled are released first, so that the unpaid sales always add up
    to the balance.

    Call with the customer locked: every writer of this customer's sales, payments and
    account refunds takes that lock first, so these rows cannot change underneath.
    `at`: the calling posting's moment (None: now), which the allocations and history
    rows are stamped with.
    """
    now = posting_moment(at)
    allocations: list[PaymentAllocation] = []
    credited, applied = deposit_credit(customer)
    if applied > max(credited, ZERO):
        allocations += _deposit_credit_release(customer, applied - max(credited, ZERO), at=now)
        applied = max(credited, ZERO)
    sources = [
        _Money(payment, payment.unallocated)
        for payment in Payment.objects.with_money_on_account()
        .filter(customer=customer)
        .order_by("created_at", "id")
    ]
    if credited > applied:
        sources.append(_Money(None, credited - applied))
    if not sources:
        PaymentAllocation.objects.bulk_create(allocations)
        return allocations
    index = 0
    changed: dict[int, Payment] = {}
    for sale in unpaid_transactions(customer=customer):
        due = sale.total_amount - sale.amount_paid
        while due > 0 and index < len(sources):
            source = sources[index]
            take = min(due, source.available)
            allocations.append(
                PaymentAllocation(
                    payment=source.payment, transaction=sale, amount=take, created_at=now
                )
            )
            if source.payment is not None:
                source.payment.allocated += take
                changed[source.payment.pk] = source.payment
            source.available -= take
            sale.amount_paid += take
            due -= take
            if source.available == 0:
                index += 1
        sale.is_paid = sale.amount_paid >= sale.total_amount
        history_save(sale, at=now, update_fields=["amount_paid", "is_paid"])
        if index >= len(sources):
            break
    PaymentAllocation.objects.bulk_create(allocations)
    for payment in changed.values():
        history_save(payment, at=now, update_fields=["allocated"])
    return allocations


def money_to_settle(customer: Customer) -> bool:
    """Whether settle() would find anything to do for `customer` now: money on account
    (a payment's, or deposit refunds credited and not yet applied), or deposit credit to
    release. A credit sale asks before it takes its number: without any (the common case)
    it skips settle() while the rows every posting shares are held."""
    credited, applied = deposit_credit(customer)
    if credited > applied or applied > max(credited, ZERO):
        return True
    return Payment.objects.with_money_on_account().filter(customer=customer).exists()


def deposit_credit(customer: Customer) -> tuple[Decimal, Decimal]:
    """(credited, applied): the deposit refunds credited to the customer's account, net
    of voids that took one back, and how much of them settles sales now."""
    credited = HoldingEntry.objects.filter(customer=customer, refund_to=RefundTo.ACCOUNT).aggregate(
        total=Sum("deposit")
    )["total"]
    applied = PaymentAllocation.objects.filter(
        payment__isnull=True, transaction__customer=customer
    ).aggregate(total=Sum("amount"))["total"]
    return -(credited or ZERO), applied or ZERO


def _deposit_credit_release(
    customer: Customer, excess: Decimal, *, at: datetime
) -> list[PaymentAllocation]:
    """Release `excess` of the deposit credit from the newest sales it settled, as
    negative allocations: those sales are unpaid again, for other money to settle."""
    settled = (
        PaymentAllocation.objects.filter(payment__isnull=True, transaction__customer=customer)
        .values("transaction")
        .annotate(total=Sum("amount"))
        .filter(total__gt=0)
        .order_by("-transaction__created_at", "-transaction")
    )
    releases: list[PaymentAllocation] = []
    for row in settled:
        if excess <= 0:
            break
        take = min(excess, row["total"])
        sale = Transaction.objects.get(pk=row["transaction"])
        releases.append(
            PaymentAllocation(payment=None, transaction=sale, amount=-take, created_at=at)
        )
        sale.amount_paid -= take
        sale.is_paid = False
        history_save(sale, at=at, update_fields=["amount_paid", "is_paid"])
        excess -= take
    return releases
