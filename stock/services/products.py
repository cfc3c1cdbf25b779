"""Writes for products: add one (a cylinder, a metered product or a service), change its
name, capacity, unit, list price, order or active state, or several list prices at once.
Each leaves an audit entry."""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from core.db import atomic_with_retry
from core.models import User
from core.numbers import plain_decimal
from core.services import (
    audit_record,
    changes_apply,
    head_office_check,
    instance_clean,
    values_readable,
)
from core.services.moments import posting_moment
from stock.models import Product, ProductKind

# A product's code and kind are fixed once created: rates, stock and the API refer to them.
PRODUCT_EDITABLE = ("name", "capacity_kg", "unit", "list_price", "sort_order", "is_active")
PRODUCT_FIELDS = (
    "code",
    "name",
    "kind",
    "capacity_kg",
    "unit",
    "list_price",
    "sort_order",
    "is_active",
)
MAX_PRICE = Decimal("999999999999.99")  # what a 14-digit money column holds
CENT = Decimal("0.01")


@atomic_with_retry
def product_create(
    *,
    code: str,
    name: str,
    kind: str,
    actor: User,
    capacity_kg: Decimal | None = None,
    unit: str | None = None,
    list_price: Decimal | int | str | None = None,
    sort_order: int = 100,
    is_active: bool = True,
    at: datetime | None = None,
) -> Product:
    """A new product. `kind`: CYLINDER (needs capacity_kg), METERED or SERVICE (neither
    has a capacity). `unit` defaults to "cylinder", "kg" or "service" by kind.
    `list_price`: what a customer without a contract rate pays (None: only customers with
    a rate can buy it). `at`: the moment of its audit entry (None: now; the demo seed
    dates it in the past)."""
    head_office_check(actor=actor, what="Products")
    product = Product(
        code=code.strip(),
        name=name.strip(),
        kind=kind,
        capacity_kg=capacity_kg,
        unit=unit or DEFAULT_UNITS.get(kind, "cylinder"),
        list_price=list_price_value(list_price),
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
        data={"product": product.code, "values": values_readable(product, _created(product))},
        at=posting_moment(at),
    )
    return product


def _created(product: Product) -> tuple[str, ...]:
    """The fields a new product's audit entry lists: a list price only when it has one."""
    if product.list_price is None:
        return tuple(f for f in PRODUCT_FIELDS if f != "list_price")
    return PRODUCT_FIELDS


@atomic_with_retry
def product_update(
    *, product: Product, actor: User, data: Mapping[str, Any], at: datetime | None = None
) -> Product:
    """Change a product (`data`: field -> new value, fields of PRODUCT_EDITABLE). Nothing
    changed: nothing is written and the product is returned as it is.

    The row is locked FOR NO KEY UPDATE: sale lines, rates and stock rows insert keys to
    it (FOR KEY SHARE) and must not wait for a rename (docs/architecture.md, "Lock
    order")."""
    head_office_check(actor=actor, what="Products")
    current = Product.objects.select_for_update(no_key=True).get(pk=product.pk)
    if "capacity_kg" in data:
        _capacity_check(Product(kind=current.kind, capacity_kg=data["capacity_kg"]))
    if "list_price" in data:
        data = {**data, "list_price": list_price_value(data["list_price"])}
    changes = changes_apply(instance=current, data=data, editable=PRODUCT_EDITABLE)
    if not changes:
        return current
    audit_record(
        actor=actor,
        action="product_update",
        obj=current,
        data={"product": current.code, "changes": changes},
        at=posting_moment(at),
    )
    return current


@atomic_with_retry
def list_prices_set(*, prices: Mapping[Product, object], actor: User) -> list[Product]:
    """Several products' list prices at once, all or none (the rate table's list price
    row): each checked as list_price_value does, locked in id order and changed by
    product_update, with its audit entry. A price left as it is writes nothing. Returns
    the products whose list price changed."""
    head_office_check(actor=actor, what="List prices")
    changed = []
    for product in sorted(prices, key=lambda p: p.pk):
        try:
            price = list_price_value(prices[product])
        except ValidationError as exc:  # which product's price is at fault
            problems = [
                ValidationError(f"{product.code}: {e.messages[0]}", code=e.code)
                for e in exc.error_dict["list_price"]
            ]
            raise ValidationError({"list_price": problems}) from None
        before = Product.objects.filter(pk=product.pk).values_list("list_price", flat=True)
        if before.get() == price:
            continue
        changed.append(product_update(product=product, actor=actor, data={"list_price": price}))
    return changed


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
    if product.kind in (ProductKind.METERED, ProductKind.SERVICE) and capacity is not None:
        what = (
            "A metered product (bulk tank)"
            if product.kind == ProductKind.METERED
            else ("A service (never stocked)")
        )
        raise ValidationError(
            {
                "capacity_kg": ValidationError(
                    f"{what} has no capacity: leave it empty.",
                    code="capacity_not_allowed",
                )
            }
        )


DEFAULT_UNITS: dict[str, str] = {
    ProductKind.CYLINDER: "cylinder",
    ProductKind.METERED: "kg",
    ProductKind.SERVICE: "service",
}


def list_price_value(value: object) -> Decimal | None:
    """A list price as given (a Decimal, an int or plain text such as "1500.00"; None or
    "" for none), checked: 0 or more, at most two decimal places, within what the books
    hold. Refusals are keyed by list_price."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        price = plain_decimal(value)
    except ValueError:
        raise ValidationError(
            {
                "list_price": ValidationError(
                    f"Enter the list price as an amount such as 1500.00; got {value!r}.",
                    code="not_an_amount",
                )
            }
        ) from None
    if price > MAX_PRICE:
        raise ValidationError(
            {
                "list_price": ValidationError(
                    f"{price} is larger than {MAX_PRICE}; check the figure.",
                    code="amount_too_large",
                )
            }
        )
    if price < 0:
        raise ValidationError(
            {
                "list_price": ValidationError(
                    f"A list price must be 0 or more; got {price}.", code="amount_too_small"
                )
            }
        )
    if price != price.quantize(CENT):
        raise ValidationError(
            {
                "list_price": ValidationError(
                    f"Use at most two decimal places; got {value}.", code="too_many_decimals"
                )
            }
        )
    return price.quantize(CENT)
