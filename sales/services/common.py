"""Input checks and money helpers shared by the sales services."""

from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError

from core.numbers import plain_decimal
from core.services.moments import history_save, posting_moment
from sales.models import Customer, Payment, PaymentAllocation
from sales.selectors import unpaid_transactions

CENT = Decimal("0.01")


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


def settle(customer: Customer, *, at: datetime | None = None) -> list[PaymentAllocation]:
    """Apply unallocated payment money to the oldest unpaid credit sales first.

    Call with the customer locked: every writer of this customer's sales and payments
    takes that lock first, so these rows cannot change underneath. `at`: the calling
    posting's moment (None: now), which the allocations and history rows are stamped with.
    """
    now = posting_moment(at)
    payments = list(
        Payment.objects.with_money_on_account()
        .filter(customer=customer)
        .order_by("created_at", "id")
    )
    allocations: list[PaymentAllocation] = []
    if not payments:
        return allocations
    index = 0
    for sale in unpaid_transactions(customer=customer):
        due = sale.total_amount - sale.amount_paid
        while due > 0 and index < len(payments):
            payment = payments[index]
            take = min(due, payment.unallocated)
            allocations.append(
                PaymentAllocation(payment=payment, transaction=sale, amount=take, created_at=now)
            )
            payment.allocated += take
            sale.amount_paid += take
            due -= take
            if payment.unallocated == 0:
                index += 1
        sale.is_paid = sale.amount_paid >= sale.total_amount
        history_save(sale, at=now, update_fields=["amount_paid", "is_paid"])
        if index >= len(payments):
            break
    PaymentAllocation.objects.bulk_create(allocations)
    for payment in payments:
        history_save(payment, at=now, update_fields=["allocated"])
    return allocations
