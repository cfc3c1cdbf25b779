"""Every report; importing this package registers them in reporting.catalogue."""

from reporting.reports import audit_reports, sales_reports, stock_reports  # noqa: F401
