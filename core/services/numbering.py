"""Gapless document numbers (TX-2026-000042): a counter row per series and year, taken
last in the posting transaction."""

from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from core.models import DocumentCounter


def document_number_next(
    *, series: str, at: datetime | None = None, year: int | None = None, width: int = 6
) -> str:
    """The next gapless number of a series, e.g. DST-2026-000042.

    `at` is the moment the document is stored with (its created_at): the number's year is
    that moment's year in the business time zone (settings.TIME_ZONE), so a posting that
    straddles midnight on 31 December is numbered and dated in the same year. (`year`
    instead of `at` names the year directly.)

    Locks the series' counter row until the caller's transaction ends; callers take it
    last, after their other locks, so the hot row is held as briefly as possible.
    """
    if at is not None and year is None:
        year = number_year(at)
    elif at is not None or year is None:
        raise TypeError("document_number_next takes either `at` or `year`")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("document_number_next must run inside the posting transaction")
    table = connection.ops.quote_name(DocumentCounter._meta.db_table)
    bump = (
        f"UPDATE {table} SET last_value = last_value + 1 "  # noqa: S608 - our table name
        "WHERE series = %s AND year = %s RETURNING last_value"
    )
    with connection.cursor() as cursor:
        cursor.execute(bump, [series, year])
        row = cursor.fetchone()
        if row is None:  # the series' first number this year
            DocumentCounter.objects.bulk_create(
                [DocumentCounter(series=series, year=year)], ignore_conflicts=True
            )
            cursor.execute(bump, [series, year])
            row = cursor.fetchone()
    return number_text(series, year, row[0], width)


def number_year(at: datetime) -> int:
    """The year a document stored `at` is numbered in: that moment's year in the
    business time zone (settings.TIME_ZONE)."""
    return timezone.localtime(at, timezone.get_default_timezone()).year


def number_text(series: str, year: int, value: int, width: int = 6) -> str:
    """A document number as printed: TX-2026-000042."""
    return f"{series}-{year}-{value:0{width}d}"
