"""The moment a posting is stamped with.

A posting service takes `at`, the moment the document is posted (None: now), reads it once
here and passes it down to everything that stamps a time: the document's created_at, its
number's year, its ledger rows, its history rows and its audit entry. So they all agree,
and nothing reads the clock twice. Only the demo seed and tests pass a moment; the admin
and the API never do.
"""

from collections.abc import Iterable
from datetime import datetime

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
