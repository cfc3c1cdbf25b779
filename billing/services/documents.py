"""The documents a customer is given, rendered: tax invoice, credit note and receipt as A4
PDFs, the thermal copy as ESC/POS bytes or an 80 mm PDF, and the PDF an outbox message
attaches. Each reads its document in a few queries and draws it through one shape
(billing.services.layout.Document), so every copy of a document says the same."""

from decimal import Decimal
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format

from billing.services.escpos import escpos_bytes
from billing.services.invoice_read import invoice_sale
from billing.services.layout import (
    Column,
    Document,
    customer_party,
    document_style,
    money,
    seller_party,
)
from billing.services.pdf import a4_pdf, roll_pdf
from billing.services.statement_pdf import issued_statement_pdf
from billing.services.statements import balance_at
from billing.services.verify import document_code, verify_url
from sales.models import CreditNote, Payment, PaymentType, Transaction

ZERO = Decimal("0")
INVOICE_COLUMNS = (
    Column("Product", 0.34),
    Column("Quantity", 0.13, "right"),
    Column("Empties", 0.13, "right"),
    Column("Rate", 0.18, "right"),
    Column("Subtotal", 0.22, "right"),
)


def _when(moment: Any) -> str:
    """A moment as people read it, in the business time zone: 30 Nov 2026, 17:05."""
    return date_format(timezone.localtime(moment), "j M Y, H:i")


def _quantity(value: Decimal) -> str:
    return f"{value:,.2f}"


def _keyed(document: models.Model) -> tuple[str, str]:
    """The QR's text and the verify code of `document` (none without an audit entry)."""
    code = document_code(document)
    return (verify_url(document, code), code) if code else ("", "")


def _base(kind: str, document: Any, customer: Any, **fields: Any) -> Document:
    style = document_style()
    qr, code = _keyed(document)
    return Document(
        kind=kind,
        title=str(style["titles"].get(kind, kind)),
        number=document.number,
        seller=seller_party(),
        customer=customer_party(customer),
        qr=qr,
        code=code,
        footer=tuple(style["footer"]),
        **fields,
    )


def _sale(transaction: Transaction) -> Transaction:
    """The sale with what its invoice shows, in two queries compiled once per process."""
    return invoice_sale(transaction)


def _refund_went(sale: Transaction) -> str:
    """Where a sale's deposit refund went: a credit customer's account, or cash the
    representative paid out (DESIGN.md "Money and tax")."""
    if sale.payment_type == PaymentType.CREDIT:
        return "credited to the account"
    return "paid in cash"


def _deposit_lines(
    sale: Transaction,
) -> tuple[list[tuple[str, ...]], list[tuple[str, str, str]]]:
    """The deposit lines of an invoice, in its table and on the thermal roll: per
    cylinder product, the cylinders charged at the deposit in force, and the cylinders
    taken back beyond those delivered with the deposit refunded on them. Never taxed."""
    rows: list[tuple[str, ...]] = []
    items: list[tuple[str, str, str]] = []
    for line in sale.lines.all():
        name = line.product.name
        if line.deposit:
            cylinders = max(line.quantity - line.empties_returned, 0)
            rows.append(
                (
                    f"Deposit: {name} (not taxed)",
                    str(cylinders),
                    "",
                    money(line.deposit_rate),
                    money(line.deposit),
                )
            )
            items.append(
                (
                    f"Deposit: {name} (not taxed)",
                    f"{cylinders} x {money(line.deposit_rate)}",
                    money(line.deposit),
                )
            )
        if line.deposit_refund:
            back = max(line.empties_returned - line.quantity, 0)
            label = f"Deposit refunded: {name}"
            rows.append((label, "", str(back), "", money(-line.deposit_refund)))
            items.append((label, f"{back} cylinders back", money(-line.deposit_refund)))
    return rows, items


def invoice_document(*, transaction: Transaction) -> Document:
    """What the tax invoice says (DESIGN.md "Money and tax")."""
    sale = _sale(transaction)
    rows: list[tuple[str, ...]] = []
    items: list[tuple[str, str, str]] = []
    for line in sale.lines.all():
        rows.append(
            (
                line.product.name,
                str(line.quantity),
                str(line.empties_returned),
                money(line.rate),
                money(line.subtotal),
            )
        )
        detail = f"{line.quantity} x {money(line.rate)}, empties {line.empties_returned}"
        items.append((line.product.name, detail, money(line.subtotal)))
    deposit_rows, deposit_items = _deposit_lines(sale)
    rows += deposit_rows
    items += deposit_items
    meter = getattr(sale, "meter_sale", None)
    facts = [("Payment", sale.get_payment_type_display()), ("Representative", str(sale.sales_rep))]
    if meter is not None:
        unit = str(getattr(meter.product, "unit", "") or "")
        rows.append(
            (
                f"{meter.product.name} (meter)",
                f"{_quantity(meter.quantity)} {unit}".strip(),
                "",
                money(meter.rate),
                money(meter.subtotal),
            )
        )
        reading = f"{_quantity(meter.last_reading)} -> {_quantity(meter.latest_reading)}"
        items.append(
            (
                f"{meter.product.name}: meter {reading}",
                f"{_quantity(meter.quantity)} x {money(meter.rate)}",
                money(meter.subtotal),
            )
        )
        facts.append(("Meter: last reading", _quantity(meter.last_reading)))
        facts.append(("Meter: latest reading", _quantity(meter.latest_reading)))
    net = sale.net_amount if sale.net_amount is not None else sale.total_amount
    totals = [("Net", money(net))]
    totals.append((f"{settings.TAX_NAME} {sale.tax_rate.normalize():f} %", money(sale.tax_amount)))
    if sale.deposit_amount:
        totals.append(("Deposits (not taxed)", money(sale.deposit_amount)))
    totals.append(("Total", money(sale.total_amount)))
    due = sale.total_amount - sale.amount_paid
    totals.append(("Amount due", money(due)))
    if sale.deposit_refund:
        # Not in the total: a refund on cylinders taken back beyond those delivered.
        totals.insert(-1, (f"Deposit refunded ({_refund_went(sale)})", money(sale.deposit_refund)))
    notes = []
    if sale.status == "VOID":
        credit = (
            CreditNote.objects.filter(transaction=sale).values_list("number", flat=True).first()
        )
        notes.append(f"VOID: reversed by credit note {credit or ''}. {sale.void_reason}".strip())
    if sale.payment_type == PaymentType.CREDIT:
        # As it stood right after this invoice was posted, so every copy of it (a reprint,
        # a resend months later) says the same, whatever was posted since, a document
        # synced later that happened earlier included.
        balance = balance_at(
            customer=sale.customer,
            before=sale.created_at,
            inclusive=True,
            posted_before=sale.created_at,
        )
        facts.append(("Account balance after this invoice", money(balance)))
    return _base(
        "invoice",
        sale,
        sale.customer,
        date=_when(sale.created_at),
        facts=tuple(facts),
        columns=INVOICE_COLUMNS,
        rows=tuple(rows),
        items=tuple(items),
        totals=tuple(totals),
        notes=tuple(notes),
    )


def credit_note_document(*, credit_note: CreditNote) -> Document:
    """What the credit note says: the invoice it reverses, why, and its amount."""
    note = CreditNote.objects.select_related("transaction__customer").get(pk=credit_note.pk)
    sale = note.transaction
    facts = (("Reverses invoice", sale.number), ("Invoice date", _when(sale.created_at)))
    return _base(
        "credit_note",
        note,
        sale.customer,
        date=_when(note.created_at),
        facts=facts,
        columns=(Column("Description", 0.7), Column("Amount", 0.3, "right")),
        rows=((f"Credit for invoice {sale.number}", money(note.amount)),),
        items=((f"Credit for invoice {sale.number}", "", money(note.amount)),),
        totals=(("Credit total", money(note.amount)),),
        notes=(f"Reason: {note.reason}",),
    )


def receipt_document(*, payment: Payment) -> Document:
    """What the receipt says: the money, how it came, the sales it settles (its
    allocations) and what is held on account; a reversed payment as a reversal notice."""
    paid = Payment.objects.select_related("customer", "received_by").get(pk=payment.pk)
    allocations = paid.allocations.select_related("transaction").order_by("id")
    rows = tuple(
        (a.transaction.number, _when(a.transaction.created_at), money(a.amount))
        for a in allocations
    )
    method = paid.get_method_display()
    facts = [("Method", method), ("Received by", str(paid.received_by))]
    received_on = getattr(paid, "received_on", None)
    if received_on is not None:
        facts.insert(0, ("Received on", date_format(received_on, "j M Y")))
    if paid.reference:
        facts.append(("Reference", paid.reference))
    totals = [("Amount received", money(paid.amount))]
    notes: list[str] = []
    kind = "receipt"
    if paid.is_reversed:
        kind = "reversal"
        notes.append(
            f"This payment was reversed on {_when(paid.reversed_at)}: {paid.reversal_reason}"
        )
    else:
        totals.append(("Held on account", money(paid.unallocated)))
    return _base(
        kind,
        paid,
        paid.customer,
        date=_when(paid.created_at),
        facts=tuple(facts),
        columns=(
            Column("Settles invoice", 0.4),
            Column("Invoice date", 0.3),
            Column("Amount", 0.3, "right"),
        ),
        rows=rows,
        items=tuple((number, date, amount) for number, date, amount in rows),
        totals=tuple(totals),
        notes=tuple(notes),
    )


def invoice_pdf(*, transaction: Transaction) -> bytes:
    """The tax invoice as an A4 PDF."""
    return a4_pdf(invoice_document(transaction=transaction))


def credit_note_pdf(*, credit_note: CreditNote) -> bytes:
    """The credit note as an A4 PDF."""
    return a4_pdf(credit_note_document(credit_note=credit_note))


def receipt_pdf(*, payment: Payment) -> bytes:
    """The payment's receipt (or reversal notice) as an A4 PDF."""
    return a4_pdf(receipt_document(payment=payment))


def receipt_escpos(*, transaction: Transaction, width_mm: int = 80) -> bytes:
    """The sale's thermal copy as ESC/POS bytes for a 58 or 80 mm printer."""
    return escpos_bytes(invoice_document(transaction=transaction), width_mm=width_mm)


def payment_escpos(*, payment: Payment, width_mm: int = 80) -> bytes:
    """The payment's thermal receipt as ESC/POS bytes for a 58 or 80 mm printer."""
    return escpos_bytes(receipt_document(payment=payment), width_mm=width_mm)


def thermal_pdf(*, document: models.Model, width_mm: int = 80) -> bytes:
    """The thermal copy of a sale, payment or credit note as a roll-wide PDF."""
    return roll_pdf(_document_of(document), width_mm=width_mm)


def _document_of(document: models.Model) -> Document:
    if isinstance(document, Transaction):
        return invoice_document(transaction=document)
    if isinstance(document, Payment):
        return receipt_document(payment=document)
    if isinstance(document, CreditNote):
        return credit_note_document(credit_note=document)
    raise TypeError(f"no printed form for {type(document).__name__}")


def document_pdf(message: Any) -> tuple[str, bytes]:
    """The attachment of an outbox message (core.OutboxMessage): its file name and the
    A4 PDF of the document it names (document_type, document_id)."""
    model = apps.get_model(message.document_type)
    document = model._default_manager.get(pk=message.document_id)
    if model._meta.label_lower == "billing.customerstatement":
        return f"{document.number}.pdf", issued_statement_pdf(issued=document)
    return f"{document.number}.pdf", a4_pdf(_document_of(document))
