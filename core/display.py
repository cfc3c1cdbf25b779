"""Values as a clerk reads them, in one place: money with thousands separators and the
currency, moments and days in the business time zone, choices by their labels.

Pages, previews, messages and reports format through these (templates through the
`hsh` template library: `{% load hsh %}{{ amount|money }}`). Numbers go through Django's
localisation (`formats.number_format` with grouping), so the separators follow
LANGUAGE_CODE; the currency is the CURRENCY setting, put in front when it is set.
"""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.utils import formats, timezone


def amount(value: Decimal | int | str | None, places: int = 2) -> str:
    """12,500.00: grouped, `places` decimals, no currency ("" for none)."""
    if value is None or value == "":
        return ""
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return formats.number_format(rounded, decimal_pos=places, use_l10n=True, force_grouping=True)


def money(value: Decimal | int | str | None) -> str:
    """LKR 12,500.00 (the CURRENCY setting in front when it is set); "" for none."""
    text = amount(value)
    if not text:
        return ""
    currency = getattr(settings, "CURRENCY", "")
    return f"{currency} {text}" if currency else text


def quantity(value: int | Decimal | None) -> str:
    """1,250 (whole numbers grouped, no decimals); "" for none."""
    if value is None:
        return ""
    return formats.number_format(value, use_l10n=True, force_grouping=True)


def moment(value: datetime | None) -> str:
    """30 Nov 2026 14:05, in the business time zone; "" for none."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, "j M Y H:i")


def day(value: date | datetime | None) -> str:
    """30 Nov 2026; "" for none."""
    if value is None:
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, "j M Y")


def label(instance: Any, field: str) -> str:
    """A choice field's label ("Cash", not "CASH"); the value itself when it has none."""
    getter = getattr(instance, f"get_{field}_display", None)
    return str(getter()) if getter else str(getattr(instance, field))
