"""Deposit rates: the deposit per cylinder of a product, in versions (deposit_set).
Deposits are money held for the customer, not revenue, never taxed (DESIGN.md "Money and
tax"); a sale charges the one in force at its moment (sales.services.holdings)."""

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from django.utils import timezone

from core.db import atomic_with_retry
from core.models import Role, User
from core.services import audit_record
from core.services.moments import posting_moment
from sales.custody_selectors import deposit_in_force
from sales.models import DepositRate, Transaction
from sales.services.common import decimal_value
from sales.services.rates import effective_moment
from sales.services.tax import tax_rate_lock
from stock.models import Product
from stock.services import cylinder_check


@atomic_with_retry
def deposit_set(
    *,
    product: Product,
    amount: Decimal | int | str,
    actor: User,
    effective_from: date | datetime | None = None,
    at: datetime | None = None,
) -> DepositRate:
    """A new version of the deposit per cylinder of `product` (0 or more) from
    `effective_from`: a date (the start of that day in the business time zone; today:
    now), a datetime, or None (now). Head office only; cylinder products only. Refused
    (effective_from, reprices_history) when it would take effect before a sale already
    posted, as a tax rate is: a sale keeps the deposit it charged.

    Ordered against the sales it could price by the tax rate's lock (taken exclusively
    here, shared by every sale before it takes its moment): a sale either commits first,
    with an earlier moment, or waits and charges the new deposit.

    `at`: the moment the version is written (created_at, audit entry, "now" for
    effective_from); None means now. Only the demo seed and tests pass it."""
    if not (actor.is_superuser or actor.role == Role.ADMIN):
        raise PermissionDenied("Deposits are set by head office.")
    cylinder_check(product, allow_inactive=True)
    value = decimal_value(amount, "amount", minimum=0)
    tax_rate_lock(exclusive=True)  # sales being posted finish first; new ones wait
    now = posting_moment(at)
    moment = effective_moment(effective_from, now=now)
    latest = Transaction.objects.aggregate(latest=Max("occurred_at"))["latest"]
    if latest is not None and moment < latest:
        raise ValidationError(
            {
                "effective_from": ValidationError(
                    f"A {product.code} deposit from {timezone.localtime(moment):%Y-%m-%d %H:%M} "
                    f"would reprice sales already posted (the latest happened at "
                    f"{timezone.localtime(latest):%Y-%m-%d %H:%M}). Posted sales keep their "
                    "deposits: choose a later date, or none for 'from now'.",
                    code="reprices_history",
                )
            }
        )
    previous = deposit_in_force(product=product, at=moment)
    version = DepositRate.objects.create(
        product=product, amount=value, effective_from=moment, created_by=actor, created_at=now
    )
    audit_record(
        actor=actor,
        action="deposit_set",
        obj=version,
        at=now,
        data={
            "product": product.code,
            "amount": str(value),
            "previous": str(previous),
            "effective_from": moment.isoformat(),
        },
    )
    return version
