"""Writes for products: add one, change its name, capacity, unit, order or active state.
Each leaves an audit entry."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from core.db import atomic_with_retry
from core.models import User
from core.services import (
    audit_record,
    changes_apply,
    head_office_check,
    instance_clean,
    values_readable,
)
from stock.models import Product, ProductKind

# A product's code and kind are fixed once created: rates, stock and the API refer to them.
PRODUCT_EDITABLE = ("name", "capacity_kg", "unit", "sort_order", "is_active")
PRODUCT_FIELDS = ("code", "name", "kind", "capacity_kg", "unit", "sort_order", "is_active")


@atomic_with_retry
def product_create(
    *,
    code: str,
    name: str,
    kind: str,
    actor: User,
    capacity_kg: Decimal | None = None,
    unit: str = "cylinder",
    sort_order: int = 100,
    is_active: bool = True,
) -> Product:
    head_office_check(actor=actor, what="Products")
    product = Product(
        code=code.strip(),
        name=name.strip(),
        kind=kind,
        capacity_kg=capacity_kg,
        unit=unit,
        sort_order=sort_order,
        is_active=is_active,
    )
    _capacity_check(product)
    instance_clean(product)
    product.save()
    audit_record(
        actor=actor,
        action="product_create",
        obj=product,
        data={"product": product.code, "values": values_readable(product, PRODUCT_FIELDS)},
    )
    return product


@atomic_with_retry
def product_update(*, product: Product, actor: User, data: Mapping[str, Any]) -> Product:
    """Change a product (`data`: field -> new value, fields of PRODUCT_EDITABLE). Nothing
    changed: nothing is written and the product is returned as it is.

    The row is locked FOR NO KEY UPDATE: sale lines, rates and stock rows insert keys to
    it (FOR KEY SHARE) and must not wait for a rename (docs/architecture.md, "Lock
    order")."""
    head_office_check(actor=actor, what="Products")
    current = Product.objects.select_for_update(no_key=True).get(pk=product.pk)
    if "capacity_kg" in data:
        _capacity_check(Product(kind=current.kind, capacity_kg=data["capacity_kg"]))
    changes = changes_apply(instance=current, data=data, editable=PRODUCT_EDITABLE)
    if not changes:
        return current
    audit_record(
        actor=actor,
        action="product_update",
        obj=current,
        data={"product": current.code, "changes": changes},
    )
    return current


def _capacity_check(product: Product) -> None:
    """The rule of the table's CHECK constraint, on the field it is about."""
    try:
        capacity = Product._meta.get_field("capacity_kg").to_python(product.capacity_kg)
    except ValidationError:
        raise ValidationError(
            {
                "capacity_kg": ValidationError(
                    "Enter the capacity in kg as a number, such as 12.7.", code="invalid"
                )
            }
        ) from None
    if product.kind == ProductKind.CYLINDER and (capacity is None or capacity <= 0):
        raise ValidationError(
            {
                "capacity_kg": ValidationError(
                    "A cylinder needs its capacity in kg, above zero.", code="capacity_required"
                )
            }
        )
    if product.kind == ProductKind.METERED and capacity is not None:
        raise ValidationError(
            {
                "capacity_kg": ValidationError(
                    "A metered product (bulk tank) has no capacity: leave it empty.",
                    code="capacity_not_allowed",
                )
            }
        )
