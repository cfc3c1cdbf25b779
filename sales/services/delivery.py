"""The e-mails of a customer's documents: a posting writes its document's message to the
outbox (core.services.outbox_enqueue) in its own transaction, addressed here, and
billing's worker sends it. Sales never imports billing."""

from datetime import datetime

from core.models import OutboxKind, OutboxMessage
from core.services import outbox_enqueue
from core.services.outbox import outbox_message
from sales.models import CreditNote, Customer, CylinderReturn, Payment, Transaction


def documents_email_to(customer: Customer) -> str:
    """The address to e-mail `customer`'s invoices, credit notes, receipts and cylinder
    return receipts to; empty (no message) when they have none or chose paper."""
    return customer.email if customer.documents_by_email else ""


def document_email(
    *,
    kind: OutboxKind,
    document: Transaction | CreditNote | Payment | CylinderReturn,
    customer: Customer,
    at: datetime,
) -> None:
    """Write `document`'s e-mail to the outbox, if `customer` takes documents by e-mail.
    Call it in the posting's transaction, with the posting's moment."""
    outbox_enqueue(
        kind=kind,
        document=document,
        number=document.number,
        to=documents_email_to(customer),
        at=at,
    )


def document_email_message(
    *,
    kind: OutboxKind,
    document: Transaction | CreditNote | Payment | CylinderReturn,
    customer: Customer,
    at: datetime,
) -> OutboxMessage | None:
    """document_email's message, built, not saved (a sale writes it in its last round
    trip); None when the customer takes no documents by e-mail."""
    return outbox_message(
        kind=kind,
        document=document,
        number=document.number,
        to=documents_email_to(customer),
        at=at,
    )
