"""Moments to post at, for the statements' tests: a time of day some days ago in the
business time zone, and a stopped clock for a service that takes no `at=`."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from decimal import Decimal
from unittest import mock

from django.utils import timezone

RATE = Decimal("3000.00")  # one 12.7KG cylinder


def moment(days_ago: int, hour: int = 10) -> datetime:
    """`hour` o'clock, business time, `days_ago` days before today."""
    day = timezone.localdate() - timedelta(days=days_ago)
    return timezone.make_aware(datetime.combine(day, time(hour)))


@contextmanager
def clock(at: datetime) -> Iterator[None]:
    """The clock stopped at `at` (for a service that takes no `at=`)."""
    with mock.patch("django.utils.timezone.now", return_value=at):
        yield
