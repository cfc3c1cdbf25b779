"""Where a customer's documents are e-mailed: the outbox rows the postings write
(core.services.outbox_enqueue) are addressed here, and billing sends them."""

from sales.models import Customer


def documents_email_to(customer: Customer) -> str:
    """The address to e-mail `customer`'s invoices, credit notes and receipts to; empty
    (no message) when they have none or chose paper."""
    return customer.email if customer.documents_by_email else ""
