"""Rate versions: set one, or undo a whole import by restoring the previous versions."""

from datetime import date, datetime, time

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.utils import timezone

from core.db import atomic_with_retry
from core.models import Role, User
from core.scoping import actor_access_check
from core.services import audit_record
from sales.models import Customer, Rate, RateImport
from sales.selectors import rate_version_in_force
from sales.services.common import customer_check, decimal_value
from stock.models import Product


def effective_moment(value) -> datetime:
    """None: now; a date: the start of that day in the business time zone."""
    if value is None or value == "":
        return timezone.now()
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    if isinstance(value, date):
        return timezone.make_aware(datetime.combine(value, time.min))
    raise ValidationError({"effective_from": f"Enter a date such as 2026-12-01; got {value!r}."})


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
    customer_check(customer)
    if not product.is_active:
        raise ValidationError({"product": f"{product.code} is no longer sold (inactive)."})
    if actor.role == Role.SALES:
        raise PermissionDenied("Rates are set by head office.")
    actor_access_check(actor=actor, depot=customer.depot)
    moment = effective_moment(effective_from)
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
    """Undo an import with new versions that restore the rates in force before it.

    History is never deleted. A product whose rate was changed again after the import
    keeps that later change; the undo batch records only what it restored.
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
    for version in batch.rates.select_related("customer__depot", "product").order_by("id"):
        newest = (
            Rate.objects.filter(customer=version.customer, product=version.product)
            .order_by("-effective_from", "-id")
            .first()
        )
        if newest.pk != version.pk:
            kept += 1
            continue
        before = (
            Rate.objects.filter(customer=version.customer, product=version.product)
            .filter(
                Q(effective_from__lt=version.effective_from)
                | Q(effective_from=version.effective_from, id__lt=version.id)
            )
            .order_by("-effective_from", "-id")
            .first()
        )
        rate_set(
            customer=version.customer,
            product=version.product,
            rate=before.rate if before else None,
            actor=actor,
            effective_from=max(now, version.effective_from),
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
