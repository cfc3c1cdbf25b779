"""The small helpers behind the words people read: money with separators, a date that
does not exist, a number too large to read."""

from decimal import Decimal

import pytest

from core.dates import DateField, date_problem
from core.numbers import (
    PlainDecimalField,
    PlainIntegerField,
    TooLarge,
    money_text,
    plain_decimal,
    plain_whole,
)


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("150000000"), "150,000,000.00"),
        ("10000000.00", "10,000,000.00"),
        (Decimal("999.5"), "999.50"),
        (Decimal("-1234.5"), "-1,234.50"),
        (0, "0.00"),
    ],
)
def test_money_text(amount, text):
    assert money_text(amount) == text


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("2026-02-29", "The date 2026-02-29 does not exist: February 2026 has 28 days."),
        ("2026-04-31", "The date 2026-04-31 does not exist: April 2026 has 30 days."),
        ("2026-13-01", "The date 2026-13-01 does not exist: there is no month 13."),
        ("2026-02-00", "The date 2026-02-00 does not exist: February 2026 has 28 days."),
        ("2024-02-29", None),  # a leap year: it exists
        ("29-02-2026", None),  # not the format: the caller says which format to use
        ("abc", None),
    ],
)
def test_date_problem(text, problem):
    assert date_problem(text) == problem


def test_date_problem_with_several_formats():
    formats = ("%Y-%m-%d", "%d/%m/%Y")
    assert date_problem("31/02/2026", formats) == (
        "The date 31/02/2026 does not exist: February 2026 has 28 days."
    )


def test_the_form_date_field_says_the_date_does_not_exist():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        DateField().clean("2026-02-29")
    assert exc.value.messages == ["The date 2026-02-29 does not exist: February 2026 has 28 days."]
    with pytest.raises(ValidationError) as exc:
        DateField().clean("tomorrow")
    assert exc.value.messages == ["Enter a valid date."]


@pytest.mark.parametrize("value", ["9" * 101, "9" * 5000, "-" + "9" * 5000, Decimal("9" * 5000)])
def test_a_number_past_a_hundred_digits_is_too_large(value):
    with pytest.raises(TooLarge):
        plain_whole(value)
    with pytest.raises(TooLarge):
        plain_decimal(value)


def test_long_fractions_are_not_too_large_but_still_read():
    assert plain_decimal("0." + "0" * 200 + "1") > 0
    assert plain_whole("9" * 100) == int("9" * 100)


def test_form_fields_say_too_large_as_past_their_bound():
    from django.core.exceptions import ValidationError

    for field in (PlainDecimalField(max_value=1000), PlainIntegerField(max_value=1000)):
        with pytest.raises(ValidationError) as exc:
            field.clean("9" * 5000)
        assert exc.value.messages == ["Ensure this value is less than or equal to 1000."]
    with pytest.raises(ValidationError) as exc:
        PlainIntegerField().clean("9" * 5000)
    assert exc.value.messages == ["This number is too large."]
