"""What a sale is asked for, checked before anything is locked: its cylinder lines, and
the fields of a bulk sale by meter reading."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypedDict

from django.core.exceptions import ValidationError

from stock.models import Product
from stock.services import cylinder_check, whole_number


@dataclass(frozen=True)
class SaleLine:
    """One cylinder line of a sale, checked."""

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
    """A sale's cylinder lines, each checked (a cylinder on sale, a quantity, empties
    returned: default the quantity) and named by its place (lines[0].quantity)."""
    parsed: list[SaleLine] = []
    seen: set[int] = set()
    for index, line in enumerate(lines or ()):
        where = f"lines[{index}]"
        if not isinstance(line, dict) or not isinstance(line.get("product"), Product):
            problem = f"{where}: name a product."
            raise ValidationError({"lines": ValidationError(problem, code="product_required")})
        product = line["product"]
        try:
            cylinder_check(product)
            quantity = whole_number(line.get("quantity"), "quantity", minimum=1)
            empties = line.get("empties_returned")
            empties = (
                quantity
                if empties is None
                else whole_number(empties, "empties_returned", minimum=0)
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
