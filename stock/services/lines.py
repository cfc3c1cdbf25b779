"""The lines of a stock document with several products (a load sheet, a transfer, a count
sheet), checked before anything is locked, each refusal keyed by the line's field
(lines[2].quantity), so a screen or a handheld can point at it."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from stock.models import Product
from stock.services.checks import cylinder_check, state_check, whole_number

MAX_LINES = 100  # far above the products a depot stocks; keeps one request bounded


@dataclass(frozen=True)
class StockLine:
    """One product of a load sheet or transfer, checked."""

    product: Product
    quantity: int


@dataclass(frozen=True)
class CountLine:
    """One product and state of a count sheet, checked."""

    product: Product
    state: str
    counted: int


@contextmanager
def field_named(field: str) -> Iterator[None]:
    """Refusals of a check keyed by one field (cylinder_check's "product",
    state_check's "state"), keyed to `field` instead (lines[2].product), each keeping its
    code."""
    try:
        yield
    except ValidationError as exc:
        errors = [e for group in exc.error_dict.values() for e in group]
        raise ValidationError(
            {field: [ValidationError(e.messages[0], code=e.code) for e in errors]}
        ) from None


def _lines_list(lines: object) -> list[object]:
    if not isinstance(lines, (list, tuple)) or not lines:
        raise ValidationError({"lines": ValidationError("Add at least one line.", code="required")})
    if len(lines) > MAX_LINES:
        raise ValidationError(
            {
                "lines": ValidationError(
                    f"{len(lines)} lines is more than {MAX_LINES}; check the sheet.",
                    code="too_many_lines",
                )
            }
        )
    return list(lines)


def _line_product(
    line: object, where: str, *, allow_inactive: bool
) -> tuple[Product, dict[str, Any]]:
    """The line's product, checked, and the line itself (a dict)."""
    product = line.get("product") if isinstance(line, dict) else None
    if not isinstance(line, dict) or not isinstance(product, Product):
        raise ValidationError(
            {f"{where}.product": ValidationError("Choose a product.", code="product_required")}
        )
    with field_named(f"{where}.product"):
        cylinder_check(product, allow_inactive=allow_inactive)
    return product, line


def stock_lines_parse(lines: object, *, allow_inactive: bool = False) -> list[StockLine]:
    """[{"product": Product, "quantity": int}, ...]: at least one line, each a cylinder
    product (inactive ones too with allow_inactive: stock coming back) and a quantity
    above zero, no product twice."""
    parsed: list[StockLine] = []
    seen: dict[int, int] = {}
    for index, line in enumerate(_lines_list(lines)):
        where = f"lines[{index}]"
        product, fields = _line_product(line, where, allow_inactive=allow_inactive)
        quantity = whole_number(fields.get("quantity"), f"{where}.quantity", minimum=1)
        if product.pk in seen:
            raise ValidationError(
                {
                    f"{where}.product": ValidationError(
                        f"{product.code} is already on line {seen[product.pk] + 1}; "
                        "put all of it on one line.",
                        code="duplicate_product",
                    )
                }
            )
        seen[product.pk] = index
        parsed.append(StockLine(product, quantity))
    return parsed


def count_lines_parse(lines: object) -> list[CountLine]:
    """[{"product": Product, "state": "FULL" | "EMPTY", "counted": int}, ...]: at least one
    line, each a cylinder product (inactive ones too: they are still counted), a state and
    a count of zero or more, no product and state twice."""
    parsed: list[CountLine] = []
    seen: dict[tuple[int, str], int] = {}
    for index, line in enumerate(_lines_list(lines)):
        where = f"lines[{index}]"
        product, fields = _line_product(line, where, allow_inactive=True)
        with field_named(f"{where}.state"):
            state = state_check(fields.get("state"))  # type: ignore[arg-type]  # checked there
        counted = whole_number(fields.get("counted"), f"{where}.counted", minimum=0)
        if (product.pk, state) in seen:
            raise ValidationError(
                {
                    f"{where}.product": ValidationError(
                        f"{product.code} ({state.lower()}) is already counted on line "
                        f"{seen[(product.pk, state)] + 1}; count it once.",
                        code="duplicate_product",
                    )
                }
            )
        seen[(product.pk, state)] = index
        parsed.append(CountLine(product, state, counted))
    return parsed
