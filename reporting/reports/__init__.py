"""Every report; importing this package registers them in reporting.catalogue."""

from reporting.reports import (  # noqa: F401
    audit_reports,
    cashup_reports,
    custody_reports,
    receivables_reports,
    sales_reports,
    stock_reports,
    tax_reports,
)
