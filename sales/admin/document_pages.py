"""What a posted document's page shows beside its fields: the sale's lines and money, the
payments that settled it, its credit note, and how each document reached the customer
(printed, e-mailed, paid), in words, money with separators, readable dates.

Links go to admin pages and to billing's downloads by URL name (sales never imports
billing: the URLs are looked up, not the views)."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.db import models
from django.urls import reverse

from core.display import day, moment, money, quantity
from sales.admin.page_words import product_words
from sales.delivery_status import Delivery, document_delivery, invoice_status
from sales.models import (
    CreditNote,
    MeterSale,
    Payment,
    PaymentType,
    Transaction,
    TransactionLine,
)


def moment_fields(fields: Iterable[str], obj: models.Model | None) -> list[str]:
    """A document page's fields with created_at shown as "Posted" and, beside it,
    occurred_at as "Happened" when the document happened at another moment than the
    server posted it (captured offline on a handheld, synced later)."""
    differs = obj is not None and obj.occurred_at != obj.created_at  # type: ignore[attr-defined]
    shown: list[str] = []
    for name in fields:
        if name == "created_at":
            shown += ["posted_shown", "happened_shown"] if differs else ["posted_shown"]
        elif name != "occurred_at":
            shown.append(name)
    return shown


class MomentsShown:
    """The "Posted" and "Happened" fields of moment_fields, in the business time zone."""

    @admin.display(description="Posted")
    def posted_shown(self, obj: Any) -> str:
        return moment(obj.created_at)

    @admin.display(description="Happened")
    def happened_shown(self, obj: Any) -> str:
        return f"{moment(obj.occurred_at)} (on the handheld; posted when it synced)"


@dataclass(frozen=True)
class Row:
    label: str
    text: str
    state: str = ""  # "ok", "warn", "bad": the colour of the text
    link: str = ""
    link_text: str = ""
    after: str = ""  # words after the link


def email_rows(delivery: Delivery, *, never: str) -> list[Row]:
    """One row per e-mail of a document, newest first; `never` when there was none."""
    if not delivery.emails:
        return [Row("E-mailed", never, "warn")]
    rows = []
    for email in delivery.emails:
        again = " (resent)" if email.is_resend else ""
        if email.status == "SENT":
            text, state = f"Sent {moment(email.sent_at)} to {email.to}{again}", "ok"
        elif email.status == "FAILED":
            text = (
                f"Failed to {email.to}{again} after {email.attempts} attempt"
                f"{'s' if email.attempts != 1 else ''}: {email.last_error}"
            )
            state = "bad"
        else:
            reason = f"; last attempt: {email.last_error}" if email.last_error else ""
            queued = moment(email.created_at)
            text = f"{email.status_label} to {email.to}{again} (queued {queued}){reason}"
            state = "warn"
        rows.append(Row("E-mailed", text, state))
    return rows


def refund_went(sale: Transaction) -> str:
    """Where a sale's deposit refund went (DESIGN.md "Money and tax"): a credit customer's
    account, or cash the representative paid out."""
    if sale.payment_type == PaymentType.CREDIT:
        return "credited to the account"
    return f"paid out in cash by {sale.sales_rep.username}"


def _cylinders(count: int) -> str:
    return f"{count} cylinder{'' if count == 1 else 's'}"


def line_deposit(
    line: TransactionLine, *, went: str, fmt: Callable[[Decimal], str] = money
) -> tuple[str, str] | None:
    """What a sale line did to the customer's deposit, as (words, amount in the total):
    the deposit charged on the cylinders their holding grew by (cylinders x deposit per
    cylinder), or the deposit refunded on the cylinders taken back beyond those delivered
    (not in the total: `went` says where it went). None when it did neither."""
    code = line.product.code
    if line.deposit:
        grew = line.quantity - line.empties_returned
        words = f"Deposit on {code} (not taxed): {_cylinders(grew)} x {fmt(line.deposit_rate)}"
        return words, fmt(line.deposit)
    if line.deposit_refund:
        back = line.empties_returned - line.quantity
        words = (
            f"Deposit refunded on {code}: {_cylinders(back)} back, "
            f"{fmt(line.deposit_refund)} {went} (not in the total)"
        )
        return words, ""
    return None


def deposit_amounts(sale: Transaction, *, fmt: Callable[[Decimal], str] = money) -> dict[str, Any]:
    """The sale's deposit figures for its totals: the deposit charged (its own untaxed
    line, part of the total) and the deposit refunded with where it went (not part of
    it); each None when there is none (a deposit-exempt customer's sale has neither)."""
    return {
        "charged": ("Deposits (not taxed)", fmt(sale.deposit_amount))
        if sale.deposit_amount
        else None,
        "refunded": (
            f"Deposit refunded, {refund_went(sale)} (not in the total)",
            fmt(sale.deposit_refund),
        )
        if sale.deposit_refund
        else None,
    }


def _no_email(customer_text: str) -> str:
    return (
        f"Not e-mailed: {customer_text} had no e-mail address for documents when it was "
        "posted (or chose paper)."
    )


def sale_lines(sale: Transaction, *, went: str = "") -> list[dict[str, Any]]:
    """The sale's lines as a clerk reads them, in one query whatever their number: the
    product by name, quantities grouped, money with separators, the deposit each moved."""
    shown = []
    for line in sale.lines.select_related("product").order_by("id"):
        product = line.product
        shown.append(
            {
                "product": product_words(product),
                "quantity": quantity(line.quantity),
                "empties": quantity(line.empties_returned) if product.is_cylinder else "–",  # noqa: RUF001
                "rate": money(line.rate),
                "subtotal": money(line.subtotal),
                "deposit": line_deposit(line, went=went),
            }
        )
    return shown


def meter_shown(sale: Transaction) -> dict[str, str] | None:
    """A meter sale's reading (previous, current, the quantity between), None for others."""
    meter = MeterSale.objects.filter(transaction=sale).select_related("product").first()
    if meter is None:
        return None
    return {
        "product": product_words(meter.product),
        "last": quantity(meter.last_reading),
        "latest": quantity(meter.latest_reading),
        "quantity": quantity(meter.quantity),
        "unit": meter.product.unit,
        "rate": money(meter.rate),
        "subtotal": money(meter.subtotal),
    }


def sale_context(sale: Transaction) -> dict[str, Any]:
    status = invoice_status(sale=sale)
    customer = sale.customer
    rows = [Row("Generated", f"{moment(sale.created_at)} ({sale.number}, posted)", "ok")]
    if status.printed:
        for copy in status.printed:
            rows.append(
                Row("Printed", f"{moment(copy.at)} by {copy.by}: {copy.format} from {copy.via}")
            )
    else:
        rows.append(Row("Printed", "Not printed yet.", "warn"))
    rows += email_rows(status.delivery, never=_no_email(f"{customer.code} {customer.name}"))
    if status.is_void:
        rows.append(Row("Paid", "Void: nothing is owed.", ""))
    elif sale.payment_type == PaymentType.CASH:
        rows.append(Row("Paid", f"Cash sale: {money(sale.amount_paid)} paid at posting.", "ok"))
    elif status.payment == "paid":
        rows.append(Row("Paid", f"Paid in full: {money(sale.total_amount)}.", "ok"))
    elif status.payment == "part paid":
        rows.append(
            Row(
                "Paid",
                f"Part paid: {money(sale.amount_paid)} of {money(sale.total_amount)}; "
                f"{money(status.due)} due.",
                "warn",
            )
        )
    else:
        rows.append(Row("Paid", f"Unpaid: {money(status.due)} due.", "bad"))
    note = getattr(sale, "credit_note", None) if status.is_void else None
    if note is not None:
        rows.append(
            Row(
                "Voided",
                f"{moment(sale.voided_at)} by {sale.voided_by or note.created_by}: "
                f"{sale.void_reason}. Credit note {note.number} of {money(note.amount)}.",
                "bad",
                reverse("billing:credit_note_pdf", args=[note.pk]),
                f"{note.number} (PDF)",
            )
        )
    allocations = [
        {
            "payment": a.payment.number if a.payment else "Deposit refunds credited",
            "payment_url": (
                reverse("admin:sales_payment_change", args=[a.payment_id]) if a.payment else ""
            ),
            "amount": money(a.amount),
            "released": a.amount < 0,
            "date": moment(a.created_at),
            "received_on": day(a.payment.received_on) if a.payment else "",
            "reversed": a.payment is not None and a.payment.reversed_at is not None,
        }
        for a in sale.allocations.select_related("payment").order_by("id")
    ]
    went = refund_went(sale) if sale.deposit_refund else ""
    deposits = deposit_amounts(sale)
    amounts = [
        ("Net", money(sale.total_amount if sale.net_amount is None else sale.net_amount)),
        (f"{settings.TAX_NAME} at {sale.tax_rate} %", money(sale.tax_amount)),
        *([deposits["charged"]] if deposits["charged"] else []),
        ("Total", money(sale.total_amount)),
        *([deposits["refunded"]] if deposits["refunded"] else []),
        ("Paid", money(sale.amount_paid)),
        ("Due", money(status.due)),
    ]
    return {
        "status_words": status.words,
        "status_rows": rows,
        "lines": sale_lines(sale, went=went),
        "meter": meter_shown(sale),
        "amounts": amounts,
        "allocations": allocations,
        "credit_note": None
        if note is None
        else {
            "number": note.number,
            "url": reverse("admin:sales_creditnote_change", args=[note.pk]),
            "pdf": reverse("billing:credit_note_pdf", args=[note.pk]),
            "date": moment(note.created_at),
            "reason": note.reason,
            "amount": money(note.amount),
        },
        "resend_url": reverse("billing:sale_resend", args=[sale.pk]),
    }


def payment_context(payment: Payment) -> dict[str, Any]:
    customer = payment.customer
    allocations = [
        {
            "sale": a.transaction.number,
            "sale_url": reverse("admin:sales_transaction_change", args=[a.transaction_id]),
            "sale_date": day(a.transaction.occurred_at),
            "sale_total": money(a.transaction.total_amount),
            "sale_due": money(a.transaction.total_amount - a.transaction.amount_paid)
            if a.transaction.status != "VOID"
            else "void",
            "amount": money(a.amount),
            "released": a.amount < 0,
            "date": moment(a.created_at),
        }
        for a in payment.allocations.select_related("transaction").order_by("id")
    ]
    rows = [
        Row("Received on", f"{day(payment.received_on)} by {payment.received_by}", "ok"),
        Row(
            "Method",
            payment.get_method_display()
            + (f", reference {payment.reference}" if payment.reference else ""),
        ),
        Row("Amount", money(payment.amount)),
        Row("Settles sales", money(payment.allocated)),
        Row(
            "On account",
            money(payment.unallocated) if payment.reversed_at is None else money(0),
            "warn" if payment.unallocated and payment.reversed_at is None else "",
        ),
    ]
    if payment.reversed_at is not None:
        rows.append(
            Row(
                "Reversed",
                f"{moment(payment.reversed_at)} by {payment.reversed_by}: "
                f"{payment.reversal_reason}",
                "bad",
            )
        )
    delivery = document_delivery(document=payment)
    return {
        "payment_rows": rows,
        "allocations": allocations,
        "status_rows": email_rows(delivery, never=_no_email(f"{customer.code} {customer.name}")),
        "resend_url": reverse("billing:payment_resend", args=[payment.pk]),
    }


def credit_note_context(note: CreditNote) -> dict[str, Any]:
    sale = note.transaction
    customer = sale.customer
    delivery = document_delivery(document=note)
    return {
        "sale": sale.number,
        "sale_url": reverse("admin:sales_transaction_change", args=[sale.pk]),
        "lines": sale_lines(sale),
        "invoice_pdf": reverse("billing:sale_invoice_pdf", args=[sale.pk]),
        "note_rows": [
            Row("Amount", money(note.amount)),
            Row("Reason", note.reason),
        ],
        "amount": money(note.amount),
        "meter": meter_shown(sale),
        "status_rows": email_rows(delivery, never=_no_email(f"{customer.code} {customer.name}")),
        "resend_url": reverse("billing:credit_note_resend", args=[note.pk]),
    }
