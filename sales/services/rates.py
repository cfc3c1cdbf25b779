"""Rate versions: set one, or undo a whole import by restoring the previous versions."""

from datetime import date, datetime, time

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.db import atomic_with_retry
from core.models import Role, User
from core.scoping import actor_access_check
from core.services import audit_record
from sales.models import Customer, Rate, RateImport
from sales.selectors import rate_version_in_force
from sales.services.common import customer_check, decimal_value
from stock.models import Product

EARLIEST = date(2000, 1, 1)
LATEST_YEARS_AHEAD = 5


def effective_moment(value) -> datetime:
    """None or today: now; another date: the start of that day in the business time zone.
    Dates before 2000 or more than five years ahead are refused as typing errors."""
    now = timezone.now()
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
            {"effective_from": f"Enter a date such as 2026-12-01; got {value!r}."}
        )
    latest = date(timezone.localdate(now).year + LATEST_YEARS_AHEAD, 12, 31)
    if not EARLIEST <= timezone.localdate(moment) <= latest:
        raise ValidationError(
            {
                "effective_from": f"Enter a date between {EARLIEST} and {latest}; "
                f"got {timezone.localdate(moment)}."
            }
        )
    return moment


@atomic_with_retry
def rate_set(
    *,
    customer: Customer,
    product: Product,
    rate,
    actor: User,
    effective_from=None,
    batch: RateImport | None = None,
) -> Rate:
    """A new version of the customer's price for a product. `rate=None` withdraws the
    product from the customer's contract (sales of it are then refused)."""
    if rate is not None:
        rate = decimal_value(rate, "rate", minimum=0)
    restoring = batch is not None and batch.undo_of_id is not None
    if not restoring:  # an undo restores rates even of a since closed customer or product
        customer_check(customer)
        if not product.is_active:
            raise ValidationError({"product": f"{product.code} is no longer sold (inactive)."})
    if actor.role == Role.SALES:
        raise PermissionDenied("Rates are set by head office.")
    actor_access_check(actor=actor, depot=customer.depot)
    moment = effective_moment(effective_from)
    # A new version wins from its moment on, until a version with a later moment. If such
    # a version already took effect between that moment and now, it would never be used.
    shadow = (
        Rate.objects.filter(
            customer=customer,
            product=product,
            effective_from__gt=moment,
            effective_from__lte=timezone.now(),
        )
        .order_by("effective_from")
        .first()
    )
    if shadow is not None:
        raise ValidationError(
            {
                "effective_from": f"A {product.code} rate from "
                f"{timezone.localtime(moment):%Y-%m-%d %H:%M} would never apply: customer "
                f"{customer.code}'s rate of "
                f"{timezone.localtime(shadow.effective_from):%Y-%m-%d %H:%M} is already in "
                "force. Choose a later date, or none for 'from now'."
            }
        )
    previous = rate_version_in_force(customer=customer, product=product, at=moment)
    version = Rate.objects.create(
        customer=customer,
        product=product,
        rate=rate,
        effective_from=moment,
        created_by=actor,
        batch=batch,
    )
    audit_record(
        actor=actor,
        action="rate_set",
        obj=version,
        depot=customer.depot,
        data={
            "customer": customer.code,
            "product": product.code,
            "rate": None if rate is None else str(rate),
            "previous": None if previous is None or previous.rate is None else str(previous.rate),
            "effective_from": moment.isoformat(),
            "batch": batch.pk if batch else None,
        },
    )
    return version


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
        raise ValidationError("This batch is itself an undo; import the rates again instead.")
    if RateImport.objects.filter(undo_of=batch).exists():
        raise ValidationError(f"Import #{batch.pk} has already been undone.")
    undo = RateImport.objects.create(
        file_name=f"undo of import #{batch.pk}", created_by=actor, undo_of=batch
    )
    now = timezone.now()
    restored = kept = 0
    pairs = batch.rates.values_list("customer", "product").distinct().order_by()
    for customer_id, product_id in pairs:
        imported = batch.rates.filter(customer_id=customer_id, product_id=product_id)
        moment = max(now, min(v.effective_from for v in imported))
        versions = Rate.objects.filter(
            customer_id=customer_id, product_id=product_id, effective_from__lte=moment
        ).order_by("-effective_from", "-id")
        in_force = versions.first()
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
def customer_rates_set(*, customer: Customer, rates, actor: User, effective_from=None):
    """Several of one customer's rates changed together (the admin's rate form)."""
    return [
        rate_set(
            customer=customer,
            product=product,
            rate=rate,
            actor=actor,
            effective_from=effective_from,
        )
        for product, rate in rates
    ]
