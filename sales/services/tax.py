"""Sales tax: its rate versions (tax_rate_set) and the arithmetic of a sale's tax
(tax_compute), per DESIGN.md "Money and tax"."""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from core.models import Role, User
from core.services import audit_record
from core.services.moments import posting_moment
from sales.models import TaxRate, Transaction
from sales.selectors import tax_rate_in_force
from sales.services.common import decimal_value
from sales.services.rates import effective_moment

CENT = Decimal("0.01")
HUNDRED = Decimal("100")


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def tax_compute(
    *, subtotal: Decimal, rate: Decimal, prices_include_tax: bool
) -> tuple[Decimal, Decimal, Decimal]:
    """(net, tax, total) of a document whose taxable subtotals add up to `subtotal`, at
    `rate` percent. Prices net of tax: tax = round(net x r / 100), total = net + tax.
    Prices including tax: tax = round(gross x r / (100 + r)), net = gross - tax, and the
    total is the subtotal. Rounded once, half-up to cents; net + tax == total always."""
    if rate < 0 or rate > HUNDRED:
        raise ValueError(f"a tax rate is a percentage from 0 to 100, not {rate}")
    if subtotal < 0:
        raise ValueError(f"a taxable subtotal is never negative, not {subtotal}")
    subtotal = _cents(subtotal)
    if prices_include_tax:
        tax = _cents(subtotal * rate / (HUNDRED + rate))
        return subtotal - tax, tax, subtotal
    tax = _cents(subtotal * rate / HUNDRED)
    return subtotal, tax, subtotal + tax


def sale_tax(
    *, subtotal: Decimal, at: datetime
) -> tuple[Decimal, tuple[Decimal, Decimal, Decimal]]:
    """(r, (net, tax, total)) of a sale posted at `at` whose taxable subtotals add up to
    `subtotal`: r is the tax rate in force at `at`, the prices include the tax or not as
    settings.PRICES_INCLUDE_TAX says (read at each posting)."""
    rate = tax_rate_in_force(at=at)
    include = bool(settings.PRICES_INCLUDE_TAX)
    return rate, tax_compute(subtotal=subtotal, rate=rate, prices_include_tax=include)


# The PostgreSQL advisory lock that orders tax rate changes and sales (tax_rate_lock).
TAX_RATE_LOCK_KEY = 0x7A8_0015


def tax_rate_lock(*, exclusive: bool = False) -> None:
    """Order a tax rate change and the sales it could price, until the transaction ends.
    A sale takes this lock shared before it takes its moment (sales do not wait for each
    other); tax_rate_set takes it exclusively before taking its own. So a sale posted
    while a new rate is being written either commits first, with an earlier moment (and
    tax_rate_set then sees it), or waits and then reads the new rate: never a moment
    after a version's effective_from with the old rate. On SQLite, writers take turns
    anyway: nothing to do."""
    if connection.vendor != "postgresql":
        return
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [TAX_RATE_LOCK_KEY])


def _refused(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


@transaction.atomic
def tax_rate_set(
    *,
    rate: Decimal | int | str,
    actor: User,
    effective_from: date | datetime | None = None,
    at: datetime | None = None,
) -> TaxRate:
    """A new version of the sales tax rate (percent, 0 to 100) from `effective_from`: a
    date (the start of that day in the business time zone; today: now), a datetime, or
    None (now). Head office only. Refused (effective_from, reprices_history) when it
    would take effect before a sale already posted: the sale keeps the rate it was
    posted at, so the history of tax never changes.

    `at`: the moment the version is written (its created_at, the audit entry, and "now"
    for effective_from); None means now. Only the demo seed and tests pass it."""
    if not (actor.is_superuser or actor.role == Role.ADMIN):
        raise PermissionDenied("The tax rate is set by head office.")
    percent = decimal_value(rate, "rate", minimum=0, maximum=HUNDRED)
    tax_rate_lock(exclusive=True)  # sales being posted finish first; new ones wait
    now = posting_moment(at)
    moment = effective_moment(effective_from, now=now)
    latest = Transaction.objects.aggregate(latest=Max("occurred_at"))["latest"]
    if latest is not None and moment < latest:
        raise _refused(
            "effective_from",
            f"A tax rate from {timezone.localtime(moment):%Y-%m-%d %H:%M} would reprice "
            f"sales already posted (the latest happened at "
            f"{timezone.localtime(latest):%Y-%m-%d %H:%M}). Posted sales keep their tax: "
            "choose a later date, or none for 'from now'.",
            "reprices_history",
        )
    previous = tax_rate_in_force(at=moment)
    version = TaxRate.objects.create(
        rate=percent, effective_from=moment, created_by=actor, created_at=now
    )
    audit_record(
        actor=actor,
        action="tax_rate_set",
        obj=version,
        at=now,
        data={
            "rate": str(percent),
            "previous": str(previous),
            "effective_from": moment.isoformat(),
        },
    )
    return version
