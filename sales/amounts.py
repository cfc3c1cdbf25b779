"""The shapes of amounts and meter readings in sales tables."""

from typing import TypedDict


class DecimalShape(TypedDict):
    max_digits: int
    decimal_places: int


MONEY: DecimalShape = {"max_digits": 14, "decimal_places": 2}
READING: DecimalShape = {"max_digits": 12, "decimal_places": 2}
