"""Helpers shared by the custody tests (test_custody_*.py)."""

from core.models import AuditLog, DocumentCounter
from stock.models import (
    Distribution,
    DistributionLine,
    StockCount,
    StockCountLine,
    StockLevel,
    StockMovement,
    Transfer,
    TransferLine,
)


def written():
    """Everything a custody service writes (ledger, documents and their lines, counters,
    audit, level quantities), to prove a refusal wrote nothing."""
    return (
        StockMovement.objects.count(),
        Distribution.objects.count(),
        DistributionLine.objects.count(),
        Transfer.objects.count(),
        TransferLine.objects.count(),
        StockCount.objects.count(),
        StockCountLine.objects.count(),
        AuditLog.objects.count(),
        sorted(DocumentCounter.objects.values_list("series", "year", "last_value")),
        sorted(StockLevel.objects.values_list("pk", "quantity")),
    )


def serial(number):
    """DST-2026-000042 -> 42."""
    return int(number.rsplit("-", 1)[1])
