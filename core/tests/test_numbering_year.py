"""A document number's year is the year of its stored created_at, in the business time
zone: a posting that straddles midnight on 31 December is numbered in one year only."""

from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone

from core.services import document_number_next
from sales.services import payment_record, sale_post
from stock.services import distribution_create

pytestmark = pytest.mark.django_db


def _last_instant_of(year):
    """23:59:59.999 on 31 December of `year`, business time."""
    tz = timezone.get_default_timezone()
    return datetime(year, 12, 31, 23, 59, 59, 999000, tzinfo=tz)


def _clock_crossing_midnight(year):
    """timezone.now() says 23:59:59.999 on 31 December the first time it is asked,
    and from then on 00:00:00 (and later) on 1 January of the next year."""
    before = _last_instant_of(year)
    after = before + timedelta(milliseconds=1)
    calls = iter(range(10_000))

    def now():
        return before if next(calls) == 0 else after

    return mock.patch("django.utils.timezone.now", side_effect=now)


def _year_of(number):
    return int(number.split("-")[1])


def _local_year(moment):
    return timezone.localtime(moment, timezone.get_default_timezone()).year


def test_the_year_is_taken_from_the_moment_in_the_business_time_zone(settings):
    settings.TIME_ZONE = "Asia/Kolkata"  # UTC+05:30
    # 20:00 UTC on 31 December 2026 is already 01:30 on 1 January 2027 in Kolkata.
    moment = datetime(2026, 12, 31, 20, 0, tzinfo=ZoneInfo("UTC"))
    with transaction.atomic():
        assert document_number_next(series="TST", at=moment) == "TST-2027-000001"
        earlier = datetime(2026, 12, 31, 18, 29, 59, tzinfo=ZoneInfo("UTC"))  # 23:59:59
        assert document_number_next(series="TST", at=earlier) == "TST-2026-000001"


def test_year_and_at_are_one_or_the_other():
    with transaction.atomic(), pytest.raises(TypeError):
        document_number_next(series="TST", year=2026, at=timezone.now())


@pytest.fixture
def world(field_day):
    cyl, customers = field_day(received=50)
    return {"cyl": cyl, "customer": customers["C1"]}


def test_a_sale_across_midnight_is_numbered_in_the_year_of_its_created_at(world, sales_rep):
    year = timezone.localdate().year
    with _clock_crossing_midnight(year):
        sale = sale_post(
            customer=world["customer"],
            sales_rep=sales_rep,
            actor=sales_rep,
            lines=[{"product": world["cyl"], "quantity": 1}],
        )
    sale.refresh_from_db()
    assert _year_of(sale.number) == _local_year(sale.created_at)


def test_a_payment_across_midnight_is_numbered_in_the_year_of_its_created_at(world, head_office):
    year = timezone.localdate().year
    with _clock_crossing_midnight(year):
        payment = payment_record(customer=world["customer"], amount="10", actor=head_office)
    payment.refresh_from_db()
    assert _year_of(payment.number) == _local_year(payment.created_at)


def test_a_collection_across_midnight_is_numbered_in_the_year_of_its_created_at(
    world, north, sales_rep, head_office
):
    year = timezone.localdate().year
    with _clock_crossing_midnight(year):
        distribution = distribution_create(
            sales_rep=sales_rep,
            depot=north,
            product=world["cyl"],
            quantity=1,
            kind="COLLECTION",
            actor=head_office,
        )
    distribution.refresh_from_db()
    assert _year_of(distribution.distribution_no) == _local_year(distribution.created_at)
