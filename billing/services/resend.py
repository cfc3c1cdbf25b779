"""Resend a document's e-mail from its page (the sale's, the payment's, the credit
note's, the cylinder return's): head office's "Resend by e-mail" button. The outbox's own
Resend action (billing.admin) repeats one chosen message; this finds the document's
latest one."""

from typing import cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from billing.services.outbox import outbox_resend
from core.models import OutboxKind, OutboxMessage, Role, User
from core.services import audit_record, outbox_enqueue
from sales.models import CreditNote, Customer, CylinderReturn, Payment, Transaction
from sales.services.delivery import documents_email_to

Document = Transaction | CreditNote | Payment | CylinderReturn


def _customer(document: Document) -> Customer:
    if isinstance(document, CreditNote):
        return document.transaction.customer
    return document.customer


def _first_kind(document: Document) -> OutboxKind:
    if isinstance(document, Transaction):
        return OutboxKind.INVOICE
    if isinstance(document, CreditNote):
        return OutboxKind.CREDIT_NOTE
    if isinstance(document, CylinderReturn):
        return OutboxKind.RETURN
    return OutboxKind.REVERSAL if document.reversed_at is not None else OutboxKind.RECEIPT


@transaction.atomic
def document_resend(*, document: Document, actor: User) -> OutboxMessage:
    """E-mail `document` again (head office): its latest e-mail repeated through
    outbox_resend, to the customer's address for documents now (the one it went to,
    when they have none now). A document never e-mailed (the customer had no address
    for documents when it was posted) goes now to the address they have since; when
    they still have none it is refused (never_emailed) and nothing is written."""
    if not (actor.is_superuser or actor.role == Role.ADMIN):
        raise PermissionDenied("E-mails are resent by head office.")
    customer = _customer(document)
    address = documents_email_to(customer)
    latest = (
        OutboxMessage.objects.filter(document_type=document._meta.label, document_id=document.pk)
        .order_by("-pk")
        .first()
    )
    if latest is not None:
        return outbox_resend(message=latest, actor=actor, to=address or None)
    if not address:
        raise ValidationError(
            f"{document.number} has never been e-mailed: {customer.code} {customer.name} "
            "had no e-mail address for documents when it was posted, and has none now. "
            "Add the address (and tick e-mailed invoices) on the customer's page, then "
            "resend; or print it.",
            code="never_emailed",
        )
    now = timezone.now()
    message = outbox_enqueue(
        kind=_first_kind(document), document=document, number=document.number, to=address, at=now
    )
    message = cast(OutboxMessage, message)  # None only without an address: not here
    audit_record(
        actor=actor,
        action="outbox_resend",
        obj=message,
        at=now,
        data={
            "number": document.number,
            "kind": message.kind,
            "to": address,
            "resend_of": None,
            "previous_status": "",
        },
    )
    return message
