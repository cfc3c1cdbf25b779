"""Every write and rendering of billing: the documents a customer is given (tax invoices,
credit notes, receipts, statements) on paper, on a thermal printer and by e-mail, and the
outbox that delivers them. Billing sits above sales: it reads sales' documents, and sales
never imports it (a posting writes a core.OutboxMessage that billing sends)."""

from billing.services.outbox import outbox_resend, outbox_send

__all__ = ["outbox_resend", "outbox_send"]
