"""The moment a posting is stamped with.

A posting service takes `at`, the moment the document is posted (None: now), reads it once
here and passes it down to everything that stamps a time: the document's created_at, its
number's year, its ledger rows, its history rows and its audit entry. So they all agree,
and nothing reads the clock twice. Only the demo seed and tests pass a moment; the admin
and the API never do.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


def posting_moment(at: datetime | None) -> datetime:
    """`at`, or now when it is None. A naive moment is refused: the audit entry's hash
    covers its time in UTC, which a naive datetime does not name."""
    if at is None:
        return timezone.now()
    if timezone.is_naive(at):
        raise TypeError("A posting's moment (at=) must be timezone-aware.")
    return at


def history_save(
    instance: models.Model, *, at: datetime, update_fields: Iterable[str] | None = None
) -> None:
    """instance.save(), with the history row it writes (django-simple-history) dated `at`.

    simple-history dates that row with the instance's `_history_date`, else the clock.
    The attribute is removed again after the save, so a later save of the same instance
    (by another posting) is not dated with this one's moment."""
    instance._history_date = at  # type: ignore[attr-defined]  # simple-history's hook
    try:
        instance.save(update_fields=update_fields)
    finally:
        del instance._history_date  # type: ignore[attr-defined]


# How far ahead of the server's clock a handheld's clock may run.
CLOCK_SKEW = timedelta(minutes=5)


def occurred_moment(occurred_at: datetime | None, *, now: datetime) -> datetime:
    """When a document happened (offline capture on a handheld): `occurred_at`, checked
    against the posting's moment `now`; None means it happened now (posted live).

    Refused, naming the field `occurred_at`: a naive datetime (code occurred_at_naive),
    one in the future beyond CLOCK_SKEW (occurred_at_future), one more than
    SYNC_MAX_AGE_DAYS before now (occurred_at_too_old). A moment within the skew ahead
    is taken as now: nothing is dated after its own posting."""
    if occurred_at is None:
        return now
    if timezone.is_naive(occurred_at):
        raise _refused(
            "Give when it happened with its time zone, e.g. 2026-11-30T09:15:00+08:00.",
            "occurred_at_naive",
        )
    if occurred_at > now + CLOCK_SKEW:
        raise _refused(
            f"{_readable(occurred_at)} is in the future (the server's time is "
            f"{_readable(now)}): check the handheld's clock.",
            "occurred_at_future",
        )
    oldest = now - timedelta(days=settings.SYNC_MAX_AGE_DAYS)
    if occurred_at < oldest:
        raise _refused(
            f"{_readable(occurred_at)} is more than {settings.SYNC_MAX_AGE_DAYS} days ago "
            f"(the oldest a handheld may sync is {_readable(oldest)}): post it from the "
            "admin with head office.",
            "occurred_at_too_old",
        )
    return min(occurred_at, now)


def _readable(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%d %b %Y %H:%M")


def _refused(message: str, code: str) -> ValidationError:
    return ValidationError({"occurred_at": ValidationError(message, code=code)})
