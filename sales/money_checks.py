"""The money checks `manage.py check_money` runs: receivables add up (invariant 5 and the
allocation rules of sales.services.common.settle).

- allocations_check: every credit sale's amount paid is the sum of its allocations (and
  a void's is nothing), and every payment's allocated amount the sum of its own; a
  reversed payment settles nothing; an allocation joins a customer's money to the same
  customer's sale;
- settled_check: no customer has money on account (a payment not fully allocated, or
  deposit refunds credited to the account and not yet applied) while a sale of theirs
  is unpaid: money on account always settles the oldest unpaid sales first.

Together they prove that the balance (sales.selectors.balance_expression) is what the
unpaid sales add up to, less the money on account. Grouped queries, no query per row.
"""

from collections import defaultdict
from decimal import Decimal

from django.db.models import F, Q, Sum

from core.numbers import money_text
from sales.models import (
    Customer,
    HoldingEntry,
    Payment,
    PaymentAllocation,
    PaymentType,
    RefundTo,
    Transaction,
    TransactionStatus,
)
from stock.checks_registry import CheckOutcome

ZERO = Decimal("0.00")


def allocations_check() -> CheckOutcome:
    differences: list[str] = []
    per_sale = dict(
        PaymentAllocation.objects.values("transaction")
        .annotate(total=Sum("amount"))
        .values_list("transaction", "total")
    )
    sales = Transaction.objects.filter(payment_type=PaymentType.CREDIT).filter(
        Q(amount_paid__gt=0) | Q(pk__in=list(per_sale))
    )
    checked = 0
    for number, pk, status, paid, total, is_paid in sales.values_list(
        "number", "pk", "status", "amount_paid", "total_amount", "is_paid"
    ).iterator(chunk_size=5000):
        checked += 1
        allocated = per_sale.get(pk) or ZERO
        if status == TransactionStatus.VOID and (paid or allocated):
            differences.append(
                f"SALE {number} is void but says {money_text(paid)} paid and its "
                f"allocations add up to {money_text(allocated)} (both should be nothing)"
            )
        elif status != TransactionStatus.VOID and paid != allocated:
            differences.append(
                f"SALE {number} says {money_text(paid)} paid, its allocations add up to "
                f"{money_text(allocated)}"
            )
        elif status != TransactionStatus.VOID and is_paid != (paid >= total):
            differences.append(
                f"SALE {number} is marked {'paid' if is_paid else 'unpaid'} with "
                f"{money_text(paid)} of {money_text(total)} paid"
            )
    payments = Payment.objects.annotate(settled=Sum("allocations__amount")).filter(
        Q(settled__isnull=False) | Q(allocated__gt=0)
    )
    for number, amount, allocated, settled, reversed_at in payments.values_list(
        "number", "amount", "allocated", "settled", "reversed_at"
    ).iterator(chunk_size=5000):
        checked += 1
        settled = settled or ZERO
        if allocated != settled:
            differences.append(
                f"PAYMENT {number} says {money_text(allocated)} allocated, its allocations "
                f"add up to {money_text(settled)}"
            )
        elif reversed_at is not None and settled:
            differences.append(
                f"PAYMENT {number} was reversed but still settles {money_text(settled)}"
            )
        elif not ZERO <= settled <= amount:
            differences.append(
                f"PAYMENT {number} of {money_text(amount)} settles {money_text(settled)}"
            )
    crossed = PaymentAllocation.objects.filter(payment__isnull=False).exclude(
        payment__customer=F("transaction__customer")
    )
    for pk, payment, sale in crossed.values_list("pk", "payment__number", "transaction__number"):
        differences.append(f"ALLOCATION {pk} applies {payment} to {sale}, another customer's")
    summary = (
        f"{len(differences)} differences in the allocations of {checked} sales and payments."
        if differences
        else f"The allocations of all {checked} paid sales and payments add up."
    )
    return CheckOutcome(summary, differences)


def settled_check() -> CheckOutcome:
    """Customers with an unpaid sale and money on account at the same time."""
    unpaid: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for customer, total, paid in (
        Transaction.objects.unpaid_credit()
        .values_list("customer", "total_amount", "amount_paid")
        .iterator(chunk_size=5000)
    ):
        unpaid[customer] += total - paid
    on_account: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for customer, amount, allocated in (
        Payment.objects.with_money_on_account()
        .filter(customer__in=list(unpaid))
        .values_list("customer", "amount", "allocated")
    ):
        on_account[customer] += amount - allocated
    credited = (
        HoldingEntry.objects.filter(refund_to=RefundTo.ACCOUNT, customer__in=list(unpaid))
        .values("customer")
        .annotate(total=Sum("deposit"))
        .values_list("customer", "total")
    )
    applied = dict(
        PaymentAllocation.objects.filter(
            payment__isnull=True, transaction__customer__in=list(unpaid)
        )
        .values("transaction__customer")
        .annotate(total=Sum("amount"))
        .values_list("transaction__customer", "total")
    )
    for customer, total in credited:
        on_account[customer] += max(-total - (applied.get(customer) or ZERO), ZERO)
    codes = dict(Customer.objects.filter(pk__in=list(on_account)).values_list("pk", "code"))
    differences = [
        f"CUSTOMER {codes[customer]} has {money_text(money)} on account while "
        f"{money_text(unpaid[customer])} of their sales is unpaid"
        for customer, money in sorted(on_account.items())
        if money > 0 and unpaid[customer] > 0
    ]
    summary = (
        f"{len(differences)} customers have money on account beside unpaid sales."
        if differences
        else f"Money on account settles every unpaid sale it can ({len(unpaid)} customers owe)."
    )
    return CheckOutcome(summary, differences)


MONEY_CHECKS = (allocations_check, settled_check)
