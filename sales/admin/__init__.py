"""The sales screens, one module per screen. Importing this package registers every
sales admin on the default admin site."""

from sales.admin.cashups import CashUpAdmin
from sales.admin.credit_notes import CreditNoteAdmin, CreditNoteInline
from sales.admin.customers import CustomerAdmin, RateAdmin
from sales.admin.deposits import DepositRateAdmin
from sales.admin.holdings import CylinderHoldingAdmin, HoldingEntryAdmin
from sales.admin.inlines import AllocationInline, LineInline, MeterInline, ReadOnlyInline
from sales.admin.payments import PaymentAdmin, ReversalFilter
from sales.admin.rate_table import ImportedRateInline, RateImportAdmin, RateTableAdmin
from sales.admin.returns import CylinderReturnAdmin
from sales.admin.sync_refusals import SyncRefusalAdmin
from sales.admin.tax import TaxRateAdmin
from sales.admin.transactions import TransactionAdmin, UnpaidFilter

__all__ = [
    "AllocationInline",
    "CashUpAdmin",
    "CreditNoteAdmin",
    "CreditNoteInline",
    "CustomerAdmin",
    "CylinderHoldingAdmin",
    "CylinderReturnAdmin",
    "DepositRateAdmin",
    "HoldingEntryAdmin",
    "ImportedRateInline",
    "LineInline",
    "MeterInline",
    "PaymentAdmin",
    "RateAdmin",
    "RateImportAdmin",
    "RateTableAdmin",
    "ReadOnlyInline",
    "ReversalFilter",
    "SyncRefusalAdmin",
    "TaxRateAdmin",
    "TransactionAdmin",
    "UnpaidFilter",
]
