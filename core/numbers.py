"""Numbers as people, handhelds and spreadsheets send them: read strictly, in one place.

A number is an integer, or text made of ASCII digits with an optional leading minus and
an optional decimal point followed by digits: "12", "12.5", "-3.25". Nothing else is
guessed at: "1e2" (an exponent), Arabic-Indic or other non-ASCII digits, "1,000"
(grouping), "+5", ".5", 0.1 as a float (binary, inexact) and True are refused, so what
is posted is exactly what was typed. Surrounding spaces are ignored. The services
(decimal_value, whole_number), the field API's serializer fields and the admin's form
fields all read numbers through plain_decimal and plain_whole.
"""

import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError

PLAIN_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
PLAIN_WHOLE = re.compile(r"-?[0-9]+")
SPACES = " \t\r\n"


def plain_decimal(value) -> Decimal:
    """The Decimal of an int or a plain decimal text; a finite Decimal as it is.
    ValueError for anything else (floats and bools included)."""
    if isinstance(value, (bool, float)):
        raise ValueError(f"not a plain decimal: {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite decimal: {value!r}")
        return value
    if isinstance(value, str) and PLAIN_DECIMAL.fullmatch(value.strip(SPACES)):
        try:
            return Decimal(value.strip(SPACES))
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            pass
    raise ValueError(f"not a plain decimal: {value!r}")


def plain_whole(value) -> int:
    """The int of an int or a plain whole-number text ("12", "-3"). ValueError for
    anything else: "1.0", 1.0, "1e3", non-ASCII digits, True."""
    if isinstance(value, (bool, float)):
        raise ValueError(f"not a whole number: {value!r}")
    if isinstance(value, int):
        return value
    text = str(value).strip(SPACES) if isinstance(value, (str, Decimal)) else None
    if text is not None and PLAIN_WHOLE.fullmatch(text):
        return int(text)
    raise ValueError(f"not a whole number: {value!r}")


# --- Admin form fields -----------------------------------------------------------------


class PlainDecimalField(forms.DecimalField):
    """Django's DecimalField (same messages and bounds) reading only plain decimals."""

    def to_python(self, value):
        if value not in self.empty_values:
            try:
                value = plain_decimal(value)
            except ValueError:
                raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        return super().to_python(value)


class PlainIntegerField(forms.IntegerField):
    """Django's IntegerField (same messages and bounds) reading only plain whole numbers."""

    def to_python(self, value):
        if value not in self.empty_values:
            try:
                value = plain_whole(value)
            except ValueError:
                raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        return super().to_python(value)
