"""Rate versions: set one or many, or undo a whole import by restoring the previous versions."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from core.db import atomic_with_retry
from core.models import Depot, Role, User
from core.scoping import actor_access_check
from core.services import audit_record, audit_record_many
from core.services.moments import posting_moment
from sales.models import Customer, MeterSale, Rate, RateImport, Transaction, TransactionLine
from sales.services.common import (
    customer_check,
    decimal_value,
    lock_customers,
)
from stock.models import Product

EARLIEST = date(2000, 1, 1)
LATEST_YEARS_AHEAD = 5

# A rate as given: an amount (Decimal, int or plain text such as "12.50"), or None to
# withdraw the product from the customer's contract.
RateValue = Decimal | int | str | None


def effective_moment(value: object, *, now: datetime | None = None) -> datetime:
    """None or today: now; another date: the start of that day in the business time zone.
    Dates before 2000 or more than five years ahead are refused as typing errors. `now`:
    the moment of the posting that asks (None: the clock)."""
    now = posting_moment(now)
    if value is None or value == "":
        return now
    if isinstance(value, datetime):
        moment = value if timezone.is_aware(value) else timezone.make_aware(value)
    elif isinstance(value, date):
        if value == timezone.localdate(now):
            return now  # "from today" means from now: the start of today is already past
        moment = timezone.make_aware(datetime.combine(value, time.min))
    else:
        raise ValidationError(
            {
                "effective_from": ValidationError(
                    f"Enter a date such as 2026-12-01; got {value!r}.", code="invalid_date"
                )
            }
        )
    latest = date(timezone.localdate(now).year + LATEST_YEARS_AHEAD, 12, 31)
    if not EARLIEST <= timezone.localdate(moment) <= latest:
        raise ValidationError(
            {
                "effective_from": ValidationError(
                    f"Enter a date between {EARLIEST} and {latest}; "
                    f"got {timezone.localdate(moment)}.",
                    code="date_out_of_range",
                )
            }
        )
    return moment


def rate_set(
    *,
    customer: Customer,
    product: Product,
    rate: RateValue,
    actor: User,
    effective_from: date | None = None,
    batch: RateImport | None = None,
    at: datetime | None = None,
) -> Rate:
    """A new version of the customer's price for a product. `rate=None` withdraws the
    product from the customer's contract (sales of it are then refused). Refused
    (effective_from, reprices_history) when it would take effect before a posted sale of
    that product to that customer happened: a sale keeps the rate it was priced at (a
    sale synced later that happened before it is priced at the rate then in force).

    `at`: the moment the version is written (its created_at, history and audit entry,
    and "now" for effective_from); None means now. Only the demo seed and tests pass it:
    the admin and the API never do."""
    return rates_set(
        changes=[RateChange(customer, product, rate, effective_from)],
        actor=actor,
        batch=batch,
        at=at,
    )[0]


@dataclass(frozen=True)
class RateChange:
    customer: Customer
    product: Product
    rate: RateValue
    effective_from: date | None = None  # None: from now; else a date (see effective_moment)


@atomic_with_retry
def rates_set(
    *,
    changes: list[RateChange],
    actor: User,
    batch: RateImport | None = None,
    at: datetime | None = None,
) -> list[Rate]:
    """New rate versions, one per change, all or none (a rate-table import is thousands):
    each checked as one would be, then written with one INSERT per table. A refusal
    names the customer and product. `at`: as for rate_set (None: now)."""
    restoring = batch is not None and batch.undo_of_id is not None
    if actor.role == Role.SALES:
        raise PermissionDenied("Rates are set by head office.")
    changes = [
        RateChange(
            c.customer,
            c.product,
            None if c.rate is None else decimal_value(c.rate, "rate", minimum=0),
            c.effective_from,
        )
        for c in changes
    ]
    if not restoring:  # an undo restores rates even of a since closed customer or product
        for change in changes:
            customer_check(change.customer)
            if not change.product.is_active:
                raise ValidationError(
                    {
                        "product": ValidationError(
                            f"{change.product.code} is no longer sold (inactive).",
                            code="product_inactive",
                        )
                    }
                )
    depots = Depot.objects.in_bulk({c.customer.depot_id for c in changes})
    for depot in depots.values():
        actor_access_check(actor=actor, depot=depot)
    # The customers' locks first (the lock order, and the new rows' foreign keys are
    # checked against them at commit), then the moments: a sale of such a customer has
    # either committed before, or waits and sees the new version. Were the moment taken
    # before the lock, a sale could price at the old rate after the version took effect.
    lock_customers(c.customer.pk for c in changes)
    now = posting_moment(at)
    moments = [effective_moment(c.effective_from, now=now) for c in changes]
    # Every version of these customers' products up to the latest moment, in one query.
    versions = defaultdict(list)
    if changes:
        for version in Rate.objects.filter(
            customer_id__in={c.customer.pk for c in changes},
            product_id__in={c.product.pk for c in changes},
            effective_from__lte=max([now, *moments]),
        ).order_by("effective_from", "id"):
            versions[(version.customer_id, version.product_id)].append(version)
    sold = _latest_sold(changes, moments)
    rows, problems = [], []
    for change, moment in zip(changes, moments, strict=True):
        customer, product = change.customer, change.product
        latest = sold.get((customer.pk, product.pk))
        if latest is not None and moment < latest:
            problems.append(
                ValidationError(
                    f"A {product.code} rate for customer {customer.code} from "
                    f"{timezone.localtime(moment):%Y-%m-%d %H:%M} would reprice sales already "
                    f"posted (the latest happened at {timezone.localtime(latest):%Y-%m-%d %H:%M}"
                    "). Posted sales keep their prices: choose a later date, or none for "
                    "'from now'.",
                    code="reprices_history",
                )
            )
            continue
        history = versions[(customer.pk, product.pk)]
        # A new version wins from its moment on, until a version with a later moment. If
        # such a version already took effect between that moment and now, it would never
        # be used.
        shadow = next((v for v in history if moment < v.effective_from <= now), None)
        if shadow is not None:
            problems.append(
                ValidationError(
                    f"A {product.code} rate from {timezone.localtime(moment):%Y-%m-%d %H:%M} "
                    f"would never apply: customer {customer.code}'s rate of "
                    f"{timezone.localtime(shadow.effective_from):%Y-%m-%d %H:%M} is already "
                    "in force. Choose a later date, or none for 'from now'.",
                    code="rate_never_applies",
                )
            )
            continue
        previous = next((v for v in reversed(history) if v.effective_from <= moment), None)
        rows.append(
            (
                Rate(
                    customer=customer,
                    product=product,
                    rate=change.rate,
                    effective_from=moment,
                    created_by=actor,
                    batch=batch,
                    created_at=now,
                ),
                previous,
            )
        )
    if problems:
        raise ValidationError({"effective_from": problems})
    created = Rate.objects.bulk_create([version for version, _ in rows])
    Rate.history.bulk_history_create(created, default_user=actor, default_date=now)
    audit_record_many(
        actor=actor,
        at=now,
        entries=[
            {
                "action": "rate_set",
                "obj": version,
                "depot": depots[version.customer.depot_id],
                "data": {
                    "customer": version.customer.code,
                    "product": version.product.code,
                    "rate": None if version.rate is None else str(version.rate),
                    "previous": None
                    if previous is None or previous.rate is None
                    else str(previous.rate),
                    "effective_from": version.effective_from.isoformat(),
                    "batch": batch.pk if batch else None,
                },
            }
            for version, previous in rows
        ],
    )
    return created


def _latest_sold(
    changes: list[RateChange], moments: list[datetime]
) -> dict[tuple[int, int], datetime]:
    """{(customer id, product id): when the latest sale of it happened} for the changes
    that take effect before their customer's latest sale (most take effect from now: one
    query, an index lookup per customer on (customer, occurred_at), rules them out).
    Read under the customers' locks: no sale of theirs can be posted meanwhile."""
    latest = Transaction.objects.filter(customer_id=OuterRef("pk")).order_by("-occurred_at")
    latest_sale = dict(
        Customer.objects.filter(pk__in={c.customer.pk for c in changes})
        .annotate(latest=Subquery(latest.values("occurred_at")[:1]))
        .filter(latest__isnull=False)
        .values_list("pk", "latest")
    )
    early = [
        (c, m)
        for c, m in zip(changes, moments, strict=True)
        if c.customer.pk in latest_sale and m < latest_sale[c.customer.pk]
    ]
    if not early:
        return {}
    since = min(m for _, m in early)
    sold: dict[tuple[int, int], datetime] = {}
    for model in (TransactionLine, MeterSale):
        rows = (
            model.objects.filter(
                transaction__customer_id__in={c.customer.pk for c, _ in early},
                product_id__in={c.product.pk for c, _ in early},
                transaction__occurred_at__gt=since,
            )
            .values("transaction__customer_id", "product_id")
            .annotate(latest=Max("transaction__occurred_at"))
            .order_by()
            .values_list("transaction__customer_id", "product_id", "latest")
        )
        for customer_id, product_id, latest in rows:
            pair = (customer_id, product_id)
            sold[pair] = max(latest, sold.get(pair, latest))
    return sold


@atomic_with_retry
def rate_import_begin(*, file_name: str, actor: User) -> RateImport:
    """The batch a rate-table import writes its versions under (rates_set(batch=...)),
    created before the file's rows are checked. No audit entry of its own: each version
    written under it has one, naming the batch. Rates are head office's: a sales
    representative is refused, as by rates_set."""
    if actor.role == Role.SALES:
        raise PermissionDenied("Rates are set by head office.")
    return RateImport.objects.create(file_name=file_name, created_by=actor)


@atomic_with_retry
def rate_import_discard(*, batch: RateImport, actor: User) -> bool:
    """Remove a batch no version was written under (the import changed nothing, or was
    refused): there is nothing to undo. True when it was removed. Only the import's own
    user, or head office, discards it (PermissionDenied)."""
    if actor.pk != batch.created_by_id and not (actor.is_superuser or actor.role == Role.ADMIN):
        raise PermissionDenied("Only whoever began this import, or head office, discards it.")
    batch = RateImport.objects.select_for_update().get(pk=batch.pk)
    if batch.rates.exists():
        return False
    batch.delete()
    return True


@atomic_with_retry
def rate_import_undo(*, batch: RateImport, actor: User) -> RateImport:
    """Undo an import with new versions that restore the rates it replaced.

    For each customer and product of the import, at max(now, its effective_from): if the
    rate in force there is the import's, a new version restores what would be in force
    without the import; if a change made since shadows it, that change is kept. History
    is never deleted.
    """
    batch = RateImport.objects.select_for_update().get(pk=batch.pk)
    if batch.undo_of_id is not None:
        raise ValidationError(
            "This batch is itself an undo; import the rates again instead.", code="undo_of_undo"
        )
    if RateImport.objects.filter(undo_of=batch).exists():
        raise ValidationError(f"Import #{batch.pk} has already been undone.", code="already_undone")
    pairs = list(batch.rates.values_list("customer", "product").distinct().order_by())
    lock_customers(customer for customer, _ in pairs)
    undo = RateImport.objects.create(
        file_name=f"undo of import #{batch.pk}", created_by=actor, undo_of=batch
    )
    now = timezone.now()
    restored = kept = 0
    for customer_id, product_id in pairs:
        imported = batch.rates.filter(customer_id=customer_id, product_id=product_id)
        moment = max(now, min(v.effective_from for v in imported))
        versions = Rate.objects.filter(
            customer_id=customer_id, product_id=product_id, effective_from__lte=moment
        ).order_by("-effective_from", "-id")
        in_force = versions[0]  # there is one: the import's own from `moment` on
        if in_force.batch_id != batch.pk:
            kept += 1  # changed again since the import: keep that change
            continue
        before = versions.exclude(batch=batch).first()
        rate_set(
            customer=in_force.customer,
            product=in_force.product,
            rate=before.rate if before else None,
            actor=actor,
            effective_from=moment,
            batch=undo,
        )
        restored += 1
    audit_record(
        actor=actor,
        action="rate_import_undo",
        obj=batch,
        data={"undo_batch": undo.pk, "restored": restored, "kept_later_changes": kept},
    )
    return undo


@atomic_with_retry
def customer_rates_set(
    *,
    customer: Customer,
    rates: Iterable[tuple[Product, RateValue]],
    actor: User,
    effective_from: date | None = None,
) -> list[Rate]:
    """Several of one customer's rates changed together (the admin's rate form)."""
    return rates_set(
        changes=[RateChange(customer, product, rate, effective_from) for product, rate in rates],
        actor=actor,
    )
