"""The checks `manage.py check_stock` runs besides the stock ledger's own.

Invariant 11 (cylinders are conserved) needs the cylinders customers hold, which live in
sales, and stock may not import sales (layers: core <- stock <- sales). So the layer
above registers its checks here when its app is ready (sales.apps.SalesConfig.ready adds
sales.conservation's), the way stock adds its guard to core.services.assignment_guards.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection, transaction


@dataclass(frozen=True)
class CheckOutcome:
    """What one check found: `differences` names each disagreement on a line of its own;
    `summary` says what it compared and whether all of it agreed (printed last, on
    stderr when something disagreed)."""

    summary: str
    differences: list[str] = field(default_factory=list)


StockCheck = Callable[[], CheckOutcome]

stock_checks: list[StockCheck] = []


def stock_check_register(check: StockCheck) -> None:
    """Run `check` in check_stock, after the stock ledger's checks (once, however often
    the app registry gets ready)."""
    if check not in stock_checks:
        stock_checks.append(check)


@contextmanager
def check_snapshot() -> Iterator[None]:
    """One transaction for a whole check: on PostgreSQL REPEATABLE READ, so every query in
    it reads one snapshot and a posting committed meanwhile is never half-seen (the stock
    it moved without the holding it changed). Inside a transaction already: that one."""
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield
