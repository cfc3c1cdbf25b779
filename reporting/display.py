"""Report cells as a clerk reads them on the page: amounts grouped, dates as dates in the
business time zone, codes by their labels, details as words. (Downloads keep their own
types: reporting.writers.)"""

import contextlib
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings

from core.display import amount, day, moment, money, quantity
from reporting.catalogue import Column, Report
from reporting.filters import COMMON, option_word

FILTER_LABELS = {
    "date_from": "From",
    "date_to": "To",
    "depot": "Depot",
    "sales_rep": "Representative",
    "customer": "Customer",
    "product": "Product",
    "payment_type": "Payment",
    "group_by": "Group by",
    "period": "Per",
    "format": "Format",
    "page": "Page",
    "async": "Background",
}


def filter_label(name: str) -> str:
    return FILTER_LABELS.get(name, name.replace("_", " ").capitalize())


# A filter as its field is labelled on a report's form ("Date from"), for its refusals.
FIELD_LABELS = {**FILTER_LABELS, "date_from": "Date from", "date_to": "Date to"}


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " ").capitalize())


def shown(value, column: Column | None = None):
    """One cell of the page."""
    if value is None or value == "":
        return ""
    if column is not None and column.choices:
        return dict(column.choices).get(value, value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return moment(value)
    if isinstance(value, date):
        return day(value)
    if isinstance(value, Decimal):
        return amount(value)
    if isinstance(value, int):
        return quantity(value)
    if isinstance(value, dict):
        return "; ".join(f"{k.replace('_', ' ')}: {shown(v)}" for k, v in sorted(value.items()))
    if isinstance(value, list):
        return ", ".join(str(shown(v)) for v in value)
    return value


def total_cell(value, column: Column) -> str:
    if isinstance(value, Decimal) and column.money:
        return money(value)
    return str(shown(value, None))


def filters_in_words(filters: dict) -> str:
    """A job's or schedule's stored filters as a clerk reads them:
    "From 1 Nov 2026 · Depot NORTH · Group by representative"."""
    parts = []
    order = [*COMMON, *sorted(k for k in filters if k not in COMMON)]
    for name in order:
        value = filters.get(name)
        if value in (None, ""):
            continue
        if name in ("date_from", "date_to"):
            with contextlib.suppress(ValueError):
                value = day(date.fromisoformat(str(value)))
        elif name == "payment_type":
            value = {"CASH": "Cash", "CREDIT": "Credit"}.get(value, value)
        else:
            value = option_word(str(value))
        parts.append(f"{filter_label(name)} {value}")
    return " · ".join(parts) if parts else "No filters: everything you may see"


def _unused(errors: dict) -> list[str]:
    """The filters refused because the report does not take them (not for their value)."""
    return [n for n, m in errors.items() if "does not filter by" in str(m)]


def refusal_sentence(report: Report | None, errors: dict) -> str:
    """The 400 page's plain sentence for filters a report does not take, by the labels
    of its form: "Deposits held cannot be filtered by Date from. It filters by Depot,
    Customer, Product only: clear the other filters." """
    unused = _unused(errors)
    if not unused or report is None:
        return "Some filters could not be used; each is explained below."
    names = ", ".join(field_label(n) for n in unused)
    used = [field_label(n) for n in COMMON if n in report.filters_used]
    its = f"It filters by {', '.join(used)} only" if used else "It takes no filters"
    return f"{report.title} cannot be filtered by {names}. {its}: clear the other filters."


def refusal_lines(errors: dict) -> list[str]:
    """The page's other refusals, one line each under the field's label ("Payment: Use
    Cash or Credit; got 'FOO'."); a message that names its field already stands alone.
    Those of the sentence (refusal_sentence) are not repeated. (The API keeps its own
    shape: {parameter: [message]}.)"""
    unused = set(_unused(errors))
    lines = []
    for name, message in errors.items():
        if name in unused:
            continue
        label = field_label(name)
        lines.append(str(message) if label in str(message) else f"{label}: {message}")
    return lines


def currency_note() -> str:
    currency = getattr(settings, "CURRENCY", "")
    return f"Amounts in {currency}." if currency else ""
