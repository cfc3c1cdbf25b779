"""The head of a document's page: who, when, how, in words and links, shown in place of
the admin's field list (which shows stored counters such as "Cylinders: 3", internal
flags and an editable-looking form). Every figure is read from the document itself."""

from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from core.display import label, moment, money
from sales.admin.document_pages import (
    Row,
    credit_note_context,
    payment_context,
    refund_went,
    sale_context,
)
from sales.models import CreditNote, Payment, Transaction


def admin_url(viewname: str, pk: Any) -> str:
    try:
        return reverse(viewname, args=[pk])
    except NoReverseMatch:  # pragma: no cover - every model linked here is registered
        return ""


def customer_row(customer: Any, label_text: str = "Customer") -> Row:
    return Row(
        label_text,
        "",
        link=admin_url("admin:sales_customer_change", customer.pk),
        link_text=f"{customer.code} {customer.name}",
    )


def user_row(label_text: str, user: Any, extra: str = "", *, can_view_users: bool) -> Row:
    """A person, linked to their user page for those who may see it."""
    if user is None:
        return Row(label_text, "Nobody recorded")
    if can_view_users:
        return Row(
            label_text,
            "",
            link=admin_url("admin:core_user_change", user.pk),
            link_text=str(user),
            after=extra,
        )
    return Row(label_text, f"{user}{' ' + extra if extra else ''}")


def posted_rows(document: Any) -> list[Row]:
    """When the server posted it, and when it happened when that was another moment
    (captured offline on a handheld, synced later)."""
    by = getattr(document, "created_by", None)
    rows = [Row("Posted", moment(document.created_at) + (f" by {by}" if by else ""))]
    if document.occurred_at != document.created_at:
        rows.append(
            Row("Happened", f"{moment(document.occurred_at)} (on the handheld; synced later)")
        )
    return rows


def sale_rows(sale: Transaction, *, can_view_users: bool) -> list[Row]:
    rep = sale.sales_rep
    net = sale.total_amount if sale.net_amount is None else sale.net_amount
    vehicle = f"(vehicle {rep.vehicle_no})" if getattr(rep, "vehicle_no", "") else ""
    rows = [
        customer_row(sale.customer),
        user_row("Sales rep", rep, vehicle, can_view_users=can_view_users),
        Row("Depot", f"{sale.depot.code} {sale.depot.name}".strip()),
        Row(
            "Payment",
            "Cash: paid when it was posted"
            if sale.payment_type == "CASH"
            else "Credit: on the customer's account",
        ),
        Row("Status", label(sale, "status"), "bad" if sale.status == "VOID" else "ok"),
        Row(
            f"{settings.TAX_NAME} rate",
            f"{sale.tax_rate} %: {money(sale.tax_amount)} on {money(net)} net",
        ),
        *posted_rows(sale),
    ]
    if sale.deposit_amount:
        rows.append(Row("Deposits (not taxed)", f"{money(sale.deposit_amount)}, in the total"))
    if sale.deposit_refund:
        rows.append(
            Row(
                "Deposit refunded",
                f"{money(sale.deposit_refund)}, {refund_went(sale)} (not in the total)",
            )
        )
    return rows


def payment_head_rows(payment: Payment, *, can_view_users: bool) -> list[Row]:
    rows = [
        customer_row(payment.customer),
        *posted_rows(payment),
    ]
    return rows


def credit_note_head_rows(note: CreditNote, *, can_view_users: bool) -> list[Row]:
    sale = note.transaction
    return [
        customer_row(sale.customer),
        Row(
            "Credits",
            "",
            link=admin_url("admin:sales_transaction_change", sale.pk),
            link_text=sale.number,
            after=f"({label(sale, 'payment_type').lower()} sale of {moment(sale.occurred_at)}, "
            f"{money(sale.total_amount)})",
        ),
        user_row(
            "Issued by",
            note.created_by,
            f"on {moment(note.created_at)}",
            can_view_users=can_view_users,
        ),
    ]


def sale_page(sale: Transaction, *, user: Any) -> dict[str, Any]:
    """Everything the sale's one page shows (document_pages.sale_context) and its head."""
    return {
        **sale_context(sale),
        "total_words": money(sale.total_amount),
        "head_rows": sale_rows(sale, can_view_users=user.has_perm("core.view_user")),
    }


def payment_page(payment: Payment, *, user: Any) -> dict[str, Any]:
    return {
        **payment_context(payment),
        "amount_words": f"{money(payment.amount)} {payment.get_method_display().lower()}",
        "head_rows": payment_head_rows(payment, can_view_users=user.has_perm("core.view_user")),
    }


def credit_note_page(note: CreditNote, *, user: Any) -> dict[str, Any]:
    return {
        **credit_note_context(note),
        "head_rows": credit_note_head_rows(note, can_view_users=user.has_perm("core.view_user")),
    }
