"""Issue 18: dates and times on admin pages in one format, the same as core.display's
("21 Nov 2026 06:00"), not Django's "21 Nov 2026, 6 a.m."; date inputs unchanged."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django import forms
from django.utils import formats

from core.display import day, moment

WHEN = datetime(2026, 11, 21, 6, 0, tzinfo=ZoneInfo("UTC"))


def test_localized_datetime_reads_like_core_display():
    assert formats.localize(WHEN.replace(tzinfo=None)) == "21 Nov 2026 06:00"
    assert formats.localize(WHEN.replace(tzinfo=None)) == moment(WHEN)
    assert formats.date_format(WHEN, "DATETIME_FORMAT") == "21 Nov 2026 06:00"
    assert formats.date_format(date(2026, 12, 1), "SHORT_DATE_FORMAT") == day(date(2026, 12, 1))
    assert formats.time_format(WHEN.time()) == "06:00"


def test_date_inputs_still_accept_iso_and_day_first():
    field = forms.DateField()
    assert field.clean("2026-12-01") == date(2026, 12, 1)
    assert field.clean("01/12/2026") == date(2026, 12, 1)
    assert "%Y-%m-%d" in formats.get_format("DATE_INPUT_FORMATS")
