"""Where a report page's cells lead: the admin page of the document or customer a row is
about, or (a summary's row, Report.drill) another report already filtered.

A page's links are found in one query per kind of thing linked, whatever the page's
length: the codes and numbers of the page are looked up together.
"""

from collections import defaultdict
from urllib.parse import urlencode

from django.urls import reverse

from core.models import AuditLog
from reporting.catalogue import Linked, Report
from reporting.filters import Filters
from sales.custody_models import CylinderReturn
from sales.day_models import CashUp
from sales.models import Customer, Transaction
from stock.custody_models import StockCount, Transfer
from stock.models import Distribution

# kind -> [(model, the field a cell holds, admin URL name)], looked up in this order.
KINDS = {
    "sale": [(Transaction, "number", "admin:sales_transaction_change")],
    "customer": [(Customer, "code", "admin:sales_customer_change")],
    "cashups": [(CashUp, "number", "admin:sales_cashup_change")],
    "audit": [(AuditLog, "seq", "admin:core_auditlog_change")],
    # A stock movement's reference: the number of the document that moved the stock.
    "document": [
        (Transaction, "number", "admin:sales_transaction_change"),
        (Distribution, "distribution_no", "admin:stock_distribution_change"),
        (Transfer, "number", "admin:stock_transfer_change"),
        (StockCount, "number", "admin:stock_stockcount_change"),
        (CylinderReturn, "number", "admin:sales_cylinderreturn_change"),
    ],
}


def report_url(slug: str, **filters) -> str:
    """A report page with these filters (empty ones left out)."""
    query = {k: v for k, v in filters.items() if v not in (None, "")}
    url = reverse("reports:report", args=[slug])
    return f"{url}?{urlencode(query)}" if query else url


def _values(kind: str, value) -> list[str]:
    if value in (None, ""):
        return []
    if kind == "cashups":  # a day's cash-ups, comma-separated
        return [v.strip() for v in str(value).split(",") if v.strip()]
    return [str(value)]


def page_links(report: Report, rows: list[tuple], filters: Filters) -> list[dict[int, list]]:
    """For each row, {column position: [(text, url), ...]}: the cells that open something.

    A column with a link kind opens each of its values' pages; a summary's row opens, from
    its first cell, what Report.drill says."""
    linked = [(i, c.link) for i, c in enumerate(report.columns) if c.link]
    wanted: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        for i, kind in linked:
            wanted[kind].update(_values(kind, row[i]))
    found: dict[tuple[str, str], str] = {}
    for kind, values in wanted.items():
        remaining = set(values)
        for model, field, url_name in KINDS[kind]:
            if not remaining:
                break
            for pk, value in model.objects.filter(**{f"{field}__in": remaining}).values_list(
                "pk", field
            ):
                found[(kind, str(value))] = reverse(url_name, args=[pk])
                remaining.discard(str(value))
    keys = report.keys
    result = []
    for row in rows:
        links: dict[int, list] = {}
        for i, kind in linked:
            targets = [(v, found[(kind, v)]) for v in _values(kind, row[i]) if (kind, v) in found]
            if targets:
                links[i] = targets
        for i, value in enumerate(row):
            if isinstance(value, Linked) and value.url and i not in links:
                links[i] = [(str(value), value.url)]
        drill = report.drill(dict(zip(keys, row, strict=True)), filters)
        if drill and 0 not in links:
            links[0] = [(None, drill)]
        result.append(links)
    return result
