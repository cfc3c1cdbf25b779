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
from django.core.validators import MaxValueValidator

PLAIN_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
PLAIN_WHOLE = re.compile(r"-?[0-9]+")
SPACES = " \t\r\n"
# No amount, reading or count of ours comes near this many digits; a longer number is
# refused as too large before Python is asked to convert it (it refuses integers past
# 4,300 digits, with a message about sys.set_int_max_str_digits).
MAX_DIGITS = 100

# How a number is written, said the same way by the admin's forms and the field API.
DECIMAL_FORMAT = (
    "digits with an optional decimal point, such as 1234.50, without thousands "
    "separators or an exponent"
)
WHOLE_FORMAT = (
    "digits only, such as 12, without a decimal point, thousands separators or an exponent"
)
TOO_LARGE = "This number is too large."


class TooLarge(ValueError):
    """A number with more than MAX_DIGITS digits: well formed, but beyond any bound."""


def _digits_checked(text: str) -> str:
    """`text` (a plain number), refused if its whole part is longer than MAX_DIGITS."""
    if len(text.split(".")[0].lstrip("-")) > MAX_DIGITS:
        raise TooLarge(f"more than {MAX_DIGITS} digits")
    return text


def money_text(amount) -> str:
    """An amount as people read it in a message: 150,000,000.00, with the CURRENCY
    setting in front when it is set ("LKR 150,000,000.00"); see core.display.money."""
    from core.display import money

    return money(Decimal(amount))


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
        if value.adjusted() >= MAX_DIGITS:
            raise TooLarge(f"more than {MAX_DIGITS} digits")
        return value
    if isinstance(value, str) and PLAIN_DECIMAL.fullmatch(value.strip(SPACES)):
        try:
            return Decimal(_digits_checked(value.strip(SPACES)))
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
    if isinstance(value, Decimal):
        value = str(value)  # Decimal("1E+2") stays refused: an exponent
    text = value.strip(SPACES) if isinstance(value, str) else None
    if text is not None and PLAIN_WHOLE.fullmatch(text):
        return int(_digits_checked(text))
    raise ValueError(f"not a whole number: {value!r}")


# --- Admin form fields -----------------------------------------------------------------


def _form_number(field, value, read):
    """`read(value)` for a form field; its refusal in the field's words."""
    try:
        return read(value)
    except TooLarge:
        if field.max_value is not None:  # what a number just past the bound is told
            message = field.error_messages.get("max_value", MaxValueValidator.message)
            raise ValidationError(
                message, code="max_value", params={"limit_value": field.max_value}
            ) from None
        raise ValidationError(TOO_LARGE, code="max_value") from None
    except ValueError:
        raise ValidationError(field.error_messages["invalid"], code="invalid") from None


class PlainDecimalField(forms.DecimalField):
    """Django's DecimalField (same bounds) reading only plain decimals, and saying how
    to write one when it is not."""

    default_error_messages = {"invalid": f"Enter a number: {DECIMAL_FORMAT}."}

    def to_python(self, value):
        if value not in self.empty_values:
            value = _form_number(self, value, plain_decimal)
        return super().to_python(value)


class PlainIntegerField(forms.IntegerField):
    """Django's IntegerField (same bounds) reading only plain whole numbers, and saying
    how to write one when it is not."""

    default_error_messages = {"invalid": f"Enter a whole number: {WHOLE_FORMAT}."}

    def to_python(self, value):
        if value not in self.empty_values:
            value = _form_number(self, value, plain_whole)
        return super().to_python(value)
