"""What became of a posted document: was the invoice printed, e-mailed, paid, voided?

Read from what the other actions left behind, never stored twice: a printed copy is the
audit entry billing writes when someone fetches a printable copy (action
"invoice_printed"), an e-mail is the document's core.OutboxMessage rows (one per attempt
head office asked for), paid is the sale's own amount_paid, void its credit note. Sales
reads core's tables; it never imports billing.

Two shapes: invoice_status() for one sale's page (every detail: when, who, where to,
why it failed), and with_invoice_status() for the sales list (four EXISTS subqueries,
each answered by an index: core.AuditLog (object_type, object_id) and
core_outbox_document (document_type, document_id)), so a page of a million sales costs
the same one query.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import Combinable
from django.db.models.functions import Cast

from core.models import AuditLog, OutboxMessage, OutboxStatus
from sales.models import PaymentType, Transaction, TransactionStatus

# Written by billing.services.printing (sales may not import it; a test keeps them equal).
INVOICE_PRINTED = "invoice_printed"
PRINT_FORMATS = {"a4-pdf": "A4 PDF", "thermal-pdf": "80 mm PDF", "escpos": "thermal printer"}
PRINT_VIA = {"api": "the handheld", "admin": "the admin"}
WAITING = (OutboxStatus.PENDING, OutboxStatus.SENDING)
SHOWN = 20  # the newest printed copies and e-mails a page lists


@dataclass(frozen=True)
class PrintedCopy:
    at: datetime
    by: str
    format: str  # in words: "A4 PDF"
    via: str  # "the admin", "the handheld"


@dataclass(frozen=True)
class EmailDelivery:
    pk: int
    to: str
    status: str  # OutboxStatus
    status_label: str
    created_at: datetime
    sent_at: datetime | None
    last_error: str
    attempts: int
    is_resend: bool


@dataclass(frozen=True)
class Delivery:
    """A document's e-mails, newest first, and what they add up to."""

    emails: list[EmailDelivery]

    @property
    def sent(self) -> EmailDelivery | None:
        """The latest e-mail the mail server accepted."""
        return next((e for e in self.emails if e.status == OutboxStatus.SENT), None)

    @property
    def waiting(self) -> EmailDelivery | None:
        return next((e for e in self.emails if e.status in WAITING), None)

    @property
    def failed(self) -> EmailDelivery | None:
        """The latest failure, when nothing was sent since and nothing is on its way."""
        latest = self.emails[0] if self.emails else None
        if latest is not None and latest.status == OutboxStatus.FAILED:
            return latest
        return None

    @property
    def words(self) -> str:
        if self.waiting is not None:
            return "e-mail waiting to be sent"
        if self.failed is not None:
            return "e-mail failed"
        if self.sent is not None:
            return "e-mailed"
        return "not e-mailed"


@dataclass(frozen=True)
class InvoiceStatus:
    """One sale's invoice, from posting to paid (or void)."""

    generated_at: datetime
    printed: list[PrintedCopy]  # newest first
    delivery: Delivery
    payment: str  # "paid", "part paid", "unpaid", "void"
    total: Decimal
    amount_paid: Decimal
    is_void: bool
    credit_note_number: str

    @property
    def due(self) -> Decimal:
        return Decimal(0) if self.is_void else self.total - self.amount_paid

    @property
    def words(self) -> str:
        return status_words(
            is_void=self.is_void,
            printed=bool(self.printed),
            emailed=self.delivery.sent is not None,
            email_failed=self.delivery.failed is not None,
            email_waiting=self.delivery.waiting is not None,
            payment=self.payment,
        )


def document_delivery(*, document: models.Model) -> Delivery:
    """The e-mails of `document` (a sale, credit note or payment), newest first."""
    rows = OutboxMessage.objects.filter(
        document_type=document._meta.label, document_id=document.pk
    ).order_by("-pk")[:SHOWN]
    return Delivery(
        emails=[
            EmailDelivery(
                pk=row.pk,
                to=row.to,
                status=row.status,
                status_label=row.get_status_display(),
                created_at=row.created_at,
                sent_at=row.sent_at,
                last_error=row.last_error,
                attempts=row.attempts,
                is_resend=row.resend_of_id is not None,
            )
            for row in rows
        ]
    )


def invoice_printed_copies(*, sale: Transaction) -> list[PrintedCopy]:
    """Who fetched a printable copy of the sale's invoice, when and how; newest first."""
    entries = (
        AuditLog.objects.filter(
            object_type=sale._meta.label_lower, object_id=str(sale.pk), action=INVOICE_PRINTED
        )
        .select_related("actor")
        .order_by("-seq")[:SHOWN]
    )
    return [
        PrintedCopy(
            at=entry.created_at,
            by=entry.actor.username,
            format=PRINT_FORMATS.get(str(entry.data.get("format")), str(entry.data.get("format"))),
            via=PRINT_VIA.get(str(entry.data.get("via")), str(entry.data.get("via"))),
        )
        for entry in entries
    ]


def payment_state(*, sale: Transaction) -> str:
    """ "paid", "part paid", "unpaid" or "void": the words the page and the list use."""
    if sale.status == TransactionStatus.VOID:
        return "void"
    if sale.is_paid:
        return "paid"
    return "part paid" if sale.amount_paid > 0 else "unpaid"


def invoice_status(*, sale: Transaction) -> InvoiceStatus:
    """Everything the sale's page shows about its invoice (three queries)."""
    note = getattr(sale, "credit_note", None) if sale.status == TransactionStatus.VOID else None
    return InvoiceStatus(
        generated_at=sale.created_at,
        printed=invoice_printed_copies(sale=sale),
        delivery=document_delivery(document=sale),
        payment=payment_state(sale=sale),
        total=sale.total_amount,
        amount_paid=sale.amount_paid,
        is_void=sale.status == TransactionStatus.VOID,
        credit_note_number=note.number if note is not None else "",
    )


def status_words(
    *,
    is_void: bool,
    printed: bool,
    emailed: bool,
    email_failed: bool,
    email_waiting: bool,
    payment: str,
) -> str:
    """The invoice's state as a clerk says it: "Printed and e-mailed; part paid"."""
    if is_void:
        return "Void (credit note issued)"
    if email_waiting:
        delivery = "printed; e-mail waiting" if printed else "e-mail waiting"
    elif email_failed:
        delivery = "printed; e-mail failed" if printed else "e-mail failed"
    elif printed and emailed:
        delivery = "printed and e-mailed"
    elif printed:
        delivery = "printed"
    elif emailed:
        delivery = "e-mailed"
    else:
        delivery = "generated"
    text = f"{delivery}; {payment}"
    return text[0].upper() + text[1:]


# --- The sales list ----------------------------------------------------------------------


class _Probed(Exists):
    """EXISTS asked row by row, through its index. In the select list PostgreSQL may
    answer an EXISTS by hashing every matching row of the subquery's table once (it
    plans for all the sales, not the page's hundred: 0.7 s on a million); OFFSET 0
    keeps it from rewriting the subquery, so it stays a probe per row shown."""

    template = "EXISTS(%(subquery)s OFFSET 0)"


def _emails(**lookups: Any) -> QuerySet[OutboxMessage]:
    return OutboxMessage.objects.filter(
        document_type=Transaction._meta.label, document_id=OuterRef("pk"), **lookups
    )


def _printed() -> QuerySet[AuditLog]:
    return AuditLog.objects.filter(
        object_type=Transaction._meta.label_lower,
        object_id=Cast(OuterRef("pk"), output_field=models.CharField()),
        action=INVOICE_PRINTED,
    )


def _failed() -> QuerySet[OutboxMessage]:
    """A failed e-mail with no e-mail of the sale after it (a resend since)."""
    later = OutboxMessage.objects.filter(
        document_type=Transaction._meta.label,
        document_id=OuterRef("document_id"),
        pk__gt=OuterRef("pk"),
    )
    # Probed: one index lookup per failed e-mail, not a pass over the whole outbox.
    return _emails(status=OutboxStatus.FAILED).filter(~_Probed(later))


# Each flag of the list, as the subquery that says it (for one sale: OuterRef("pk")).
FLAGS: dict[str, Callable[[], QuerySet[Any]]] = {
    "invoice_printed": _printed,
    "invoice_emailed": lambda: _emails(status=OutboxStatus.SENT),
    "invoice_email_failed": _failed,
    "invoice_email_waiting": lambda: _emails(status__in=WAITING),
}


def with_invoice_status(queryset: QuerySet[Transaction]) -> QuerySet[Transaction]:
    """The sales with invoice_printed, invoice_emailed, invoice_email_failed and
    invoice_email_waiting (booleans, one EXISTS each, probed by index for each row the
    page shows) for the list's column."""
    return queryset.annotate(**{name: _Probed(subquery()) for name, subquery in FLAGS.items()})


def row_status_words(sale: Transaction) -> str:
    """status_words of a sale from with_invoice_status()."""
    return status_words(
        is_void=sale.status == TransactionStatus.VOID,
        printed=bool(getattr(sale, "invoice_printed", False)),
        emailed=bool(getattr(sale, "invoice_emailed", False)),
        email_failed=bool(getattr(sale, "invoice_email_failed", False)),
        email_waiting=bool(getattr(sale, "invoice_email_waiting", False)),
        payment=payment_state(sale=sale),
    )


# The list's "Invoice" filter: value -> (label, condition). The conditions use plain
# EXISTS (not the list's probed flags): PostgreSQL turns them into (anti) semi-joins and
# starts from whichever side is smaller, so a rare state is found without reading every
# sale.
POSTED = Q(status=TransactionStatus.POSTED)


def _has(flag: str) -> Exists:
    return Exists(FLAGS[flag]())


INVOICE_FILTERS: dict[str, tuple[str, Callable[[], Q | Combinable]]] = {
    "generated": (
        "Generated (not printed, not e-mailed)",
        lambda: POSTED & ~_has("invoice_printed") & ~_has("invoice_emailed"),
    ),
    "printed": ("Printed", lambda: POSTED & _has("invoice_printed")),
    "emailed": ("E-mailed", lambda: POSTED & _has("invoice_emailed")),
    "email_failed": ("E-mail failed", lambda: POSTED & _has("invoice_email_failed")),
    "email_waiting": ("E-mail waiting", lambda: POSTED & _has("invoice_email_waiting")),
    "paid": ("Paid", lambda: POSTED & Q(is_paid=True)),
    "part_paid": (
        "Part paid",
        lambda: POSTED & Q(payment_type=PaymentType.CREDIT, is_paid=False, amount_paid__gt=0),
    ),
    "unpaid": (
        "Unpaid (credit)",
        lambda: POSTED & Q(payment_type=PaymentType.CREDIT, is_paid=False),
    ),
    "void": ("Void", lambda: Q(status=TransactionStatus.VOID)),
}


def invoice_filter(queryset: QuerySet[Transaction], value: str) -> QuerySet[Transaction]:
    """The sales whose invoice is in state `value` (a key of INVOICE_FILTERS); all of
    them for an unknown value."""
    if value not in INVOICE_FILTERS:
        return queryset
    return queryset.filter(INVOICE_FILTERS[value][1]())
