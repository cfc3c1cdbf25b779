"""Values as a clerk reads them: grouped money with the currency, days and moments in the
business time zone, the template filters."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template

from core import display


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("1234567.5"), "1,234,567.50"),
        (0, "0.00"),
        ("-1000", "-1,000.00"),
        (Decimal("999.999"), "1,000.00"),
        (None, ""),
    ],
)
def test_money_is_grouped_with_two_decimals(settings, value, shown):
    settings.CURRENCY = ""
    assert display.money(value) == shown


def test_money_carries_the_currency_setting(settings):
    settings.CURRENCY = "LKR"
    assert display.money(Decimal("12500")) == "LKR 12,500.00"
    assert display.amount(Decimal("12500")) == "12,500.00"
    assert display.money(None) == ""


def test_quantities_are_grouped_whole_numbers():
    assert display.quantity(1250) == "1,250"
    assert display.quantity(None) == ""


def test_moments_read_in_the_business_time_zone(settings):
    settings.TIME_ZONE = "Asia/Colombo"
    utc = datetime(2026, 11, 30, 20, 0, tzinfo=ZoneInfo("UTC"))
    assert display.moment(utc) == "1 Dec 2026 01:30"
    assert display.day(utc) == "1 Dec 2026"
    assert display.day(date(2026, 3, 5)) == "5 Mar 2026"
    assert display.moment(None) == display.day(None) == ""


def test_the_template_filters(settings):
    settings.CURRENCY = "LKR"
    page = Template("{% load hsh %}{{ a|money }} | {{ n|quantity }} | {{ d|day }}").render(
        Context({"a": Decimal("1500.5"), "n": 12000, "d": date(2026, 1, 2)})
    )
    assert page == "LKR 1,500.50 | 12,000 | 2 Jan 2026"


def test_messages_name_amounts_with_the_currency_too(settings):
    """core.numbers.money_text (the services' messages) formats as display.money does."""
    from core.numbers import money_text

    settings.CURRENCY = "LKR"
    assert money_text(Decimal("150000000")) == "LKR 150,000,000.00"
    settings.CURRENCY = ""
    assert money_text(Decimal("-2.5")) == "-2.50"
