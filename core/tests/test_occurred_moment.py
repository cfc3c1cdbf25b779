"""occurred_moment: when a document captured offline happened, checked against the
posting's moment."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from core.services.moments import occurred_moment

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def code(error: ValidationError) -> tuple[str, str | None]:
    ((field, errors),) = error.error_dict.items()
    return field, errors[0].code


def test_none_is_now_and_a_moment_in_range_is_kept():
    assert occurred_moment(None, now=NOW) == NOW
    earlier = NOW - timedelta(days=6, hours=23)
    assert occurred_moment(earlier, now=NOW) == earlier


def test_a_clock_a_little_ahead_is_taken_as_now():
    assert occurred_moment(NOW + timedelta(minutes=4), now=NOW) == NOW


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (NOW + timedelta(minutes=6), "occurred_at_future"),
        (NOW - timedelta(days=7, seconds=1), "occurred_at_too_old"),
        (datetime(2026, 11, 30, 9, 0), "occurred_at_naive"),  # noqa: DTZ001 - the point
    ],
)
def test_refusals_name_the_field_and_the_problem(moment, expected):
    with pytest.raises(ValidationError) as refused:
        occurred_moment(moment, now=NOW)
    assert code(refused.value) == ("occurred_at", expected)


def test_the_age_follows_the_setting(settings):
    settings.SYNC_MAX_AGE_DAYS = 2
    with pytest.raises(ValidationError, match="more than 2 days ago"):
        occurred_moment(NOW - timedelta(days=3), now=NOW)
