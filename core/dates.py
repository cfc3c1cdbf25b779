"""Dates typed by people: a well-formed date that does not exist (2026-02-29) is called
that, instead of being told to use the format it already has."""

import calendar
import re

from django import forms
from django.core.exceptions import ValidationError

_PARTS = {"%Y": r"(?P<year>\d{4})", "%m": r"(?P<month>\d{1,2})", "%d": r"(?P<day>\d{1,2})"}


def _shape(fmt: str) -> re.Pattern | None:
    """The pattern of a strptime format made of %Y, %m, %d and separators; None for a
    format with anything else (%b, %y...)."""
    pieces = re.split(r"(%.)", fmt)
    if any(p.startswith("%") and p not in _PARTS for p in pieces):
        return None
    return re.compile("".join(_PARTS.get(p, re.escape(p)) for p in pieces))


def date_problem(text, formats=("%Y-%m-%d",)) -> str | None:
    """Why `text`, written in one of `formats`, is not a date that exists (a 30 February,
    a month 13); None when it is not written in any of them, or is a real date."""
    text = str(text).strip()
    for fmt in formats:
        shape = _shape(fmt)
        match = shape.fullmatch(text) if shape else None
        if match is None:
            continue
        year, month, day = (int(match[part]) for part in ("year", "month", "day"))
        if not 1 <= month <= 12:
            return f"The date {text} does not exist: there is no month {month}."
        days = calendar.monthrange(year, month)[1] if year else 31
        if not 1 <= day <= days:
            return (
                f"The date {text} does not exist: {calendar.month_name[month]} {year} "
                f"has {days} days."
            )
    return None


class DateField(forms.DateField):
    """Django's DateField, saying that a well-formed date does not exist."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError:
            problem = date_problem(value, self.input_formats) if isinstance(value, str) else None
            if problem:
                raise ValidationError(problem, code="invalid") from None
            raise
