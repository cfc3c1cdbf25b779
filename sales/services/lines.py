"""What a sale is asked for, checked before anything is locked: its lines (cylinders and
services), and the fields of a bulk sale by meter reading."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypedDict

from django.core.exceptions import ValidationError
from django.utils import timezone

from sales.models import Customer, MeterSale, TransactionStatus
from stock.models import Product, ProductKind
from stock.services import cylinder_check, whole_number


@dataclass(frozen=True)
class SaleLine:
    """One line of a sale, checked: cylinders (with the empties taken back) or a service
    (installation, a delivery charge: priced and taxed, never stocked; no empties)."""

    product: Product
    quantity: int
    empties_returned: int


class MeterFields(TypedDict):
    """A bulk sale by meter reading: the MeterSale's fields."""

    product: Product
    last_reading: Decimal
    latest_reading: Decimal
    quantity: Decimal
    rate: Decimal
    subtotal: Decimal


def sale_lines_parse(lines: Iterable[object] | None) -> list[SaleLine]:
    """A sale's lines, each checked (a cylinder or a service on sale, a quantity, empties
    returned: default the quantity for a cylinder, none for a service) and named by its
    place (lines[0].quantity). Metered products are sold by meter reading, not on lines."""
    parsed: list[SaleLine] = []
    seen: set[int] = set()
    for index, line in enumerate(lines or ()):
        where = f"lines[{index}]"
        if not isinstance(line, dict) or not isinstance(line.get("product"), Product):
            problem = f"{where}: name a product."
            raise ValidationError({"lines": ValidationError(problem, code="product_required")})
        product = line["product"]
        try:
            if product.kind == ProductKind.SERVICE:
                quantity, empties = _service_line(product, line)
            else:
                cylinder_check(product)
                quantity = whole_number(line.get("quantity"), "quantity", minimum=1)
                given = line.get("empties_returned")
                empties = (
                    quantity
                    if given is None
                    else whole_number(given, "empties_returned", minimum=0)
                )
        except ValidationError as exc:
            messages = [  # each keeps its own code (quantity_too_small, product_inactive...)
                ValidationError(f"{where}.{field}: {e.messages[0]}", code=e.code)
                for field, errors in exc.error_dict.items()
                for e in errors
            ]
            raise ValidationError({"lines": messages}) from None
        if product.pk in seen:
            problem = f"{where}: {product.code} appears twice; put it on one line."
            raise ValidationError({"lines": ValidationError(problem, code="duplicate_product")})
        seen.add(product.pk)
        parsed.append(SaleLine(product, quantity, empties))
    return parsed


def _service_line(product: Product, line: dict[str, object]) -> tuple[int, int]:
    """(quantity, 0) of a service line: a service on sale, a whole quantity of 1 or more,
    and no empties (none is ever delivered)."""
    if not product.is_active:
        raise ValidationError(
            {
                "product": ValidationError(
                    f"{product.code} is no longer sold (inactive).", code="product_inactive"
                )
            }
        )
    quantity = whole_number(line.get("quantity"), "quantity", minimum=1)
    empties = line.get("empties_returned")
    if empties is not None and whole_number(empties, "empties_returned", minimum=0):
        raise ValidationError(
            {
                "empties_returned": ValidationError(
                    f"{product.code} is a service ({product.name}): it takes back no empties; "
                    "leave empties returned empty or 0.",
                    code="service_no_empties",
                )
            }
        )
    return quantity, 0


def meter_order_check(customer: Customer, *, occurred: datetime) -> None:
    """A meter reading captured offline must also be the latest in time: one that
    happened before the customer's latest posted reading (which is lower than it, or it
    would have been refused already) would have the meter run backwards between them.
    Read under the customer's lock, as the last reading is. One query, on meter sales only."""
    latest = (
        MeterSale.objects.filter(
            transaction__customer=customer, transaction__status=TransactionStatus.POSTED
        )
        .order_by("-transaction_id")
        .values_list("transaction__occurred_at", "latest_reading", "transaction__number")
        .first()
    )
    if latest is None or occurred >= latest[0]:
        return
    when = timezone.localtime(latest[0]).strftime("%d %b %Y %H:%M")
    raise ValidationError(
        {
            "meter_reading": ValidationError(
                f"This reading was taken before {latest[2]}'s reading of {latest[1]} (taken "
                f"{when}) but is higher than it: the meter cannot run backwards. Check the "
                "reading, or void the later sale first.",
                code="meter_reading_out_of_order",
            )
        }
    )
