"""Every write and rendering of billing: the documents a customer is given (tax invoices,
credit notes, receipts, statements) on paper, on a thermal printer and by e-mail, and the
outbox that delivers them. Billing sits above sales: it reads sales' documents, and sales
never imports it (a posting writes a core.OutboxMessage that billing sends)."""

from billing.services.documents import (
    credit_note_pdf,
    document_pdf,
    invoice_pdf,
    payment_escpos,
    receipt_escpos,
    receipt_pdf,
    thermal_pdf,
)
from billing.services.outbox import outbox_resend, outbox_send
from billing.services.printing import invoice_printed_record
from billing.services.returns import (
    cylinder_return_escpos,
    cylinder_return_pdf,
    cylinder_return_thermal_pdf,
)
from billing.services.statement_issue import statement_issue
from billing.services.statement_pdf import statement_pdf
from billing.services.statement_run import (
    statement_run_execute,
    statement_run_monthly,
    statement_run_start,
    statement_runs_resume,
)
from billing.services.statements import Statement, StatementEntry, balance_at, statement_build
from billing.services.verify import document_verify, verify_code

__all__ = [
    "Statement",
    "StatementEntry",
    "balance_at",
    "credit_note_pdf",
    "cylinder_return_escpos",
    "cylinder_return_pdf",
    "cylinder_return_thermal_pdf",
    "document_pdf",
    "document_verify",
    "invoice_pdf",
    "invoice_printed_record",
    "outbox_resend",
    "outbox_send",
    "payment_escpos",
    "receipt_escpos",
    "receipt_pdf",
    "statement_build",
    "statement_issue",
    "statement_pdf",
    "statement_run_execute",
    "statement_run_monthly",
    "statement_run_start",
    "statement_runs_resume",
    "thermal_pdf",
    "verify_code",
]
