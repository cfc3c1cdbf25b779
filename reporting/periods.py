"""A report's period label ("2026-11" or "2026-11-30") as its first and last day."""

import calendar
from datetime import date


def period_bounds(label: str) -> tuple[str, str]:
    """("2026-11-01", "2026-11-30") for "2026-11"; the day twice for "2026-11-30"."""
    if len(label) == 7:
        year, month = int(label[:4]), int(label[5:])
        last = calendar.monthrange(year, month)[1]
        return date(year, month, 1).isoformat(), date(year, month, last).isoformat()
    return label, label
