"""What the admin header's search finds in sales (core.search): customers by account
number or name, and sales, credit notes, payments, cylinder returns and cash-ups by number."""

from typing import Any

from django.db.models import Q

from core import display
from core.scoping import scope_queryset
from core.search import LIMIT, Group, document_kind, grouped, kind, may_view
from sales.custody_models import CylinderReturn
from sales.day_models import CashUp
from sales.documents import CreditNote, Payment
from sales.models import Customer, Transaction


@kind(order=10)
def customers(user: Any, text: str) -> Group | None:
    """Account number or name containing the text; the account number typed whole first."""
    if not may_view(user, Customer):
        return None
    queryset = scope_queryset(
        Customer.objects.filter(Q(code__icontains=text) | Q(name__icontains=text)), user
    ).select_related("depot")
    rows = list(queryset.order_by("code")[: LIMIT + 1])
    rows.sort(key=lambda c: c.code.lower() != text.lower())
    return grouped(
        "Customers",
        Customer,
        rows,
        lambda c: f"{c.code} · {c.name} · {c.depot.name}",
        lambda c: c.code.lower() == text.lower(),
        text,
        documents=False,
    )


def _sale(sale: Transaction) -> str:
    void = " · void" if sale.status == "VOID" else ""
    return (
        f"{sale.number} · {sale.customer.code} {sale.customer.name} · "
        f"{display.money(sale.total_amount)} · {display.day(sale.occurred_at)}{void}"
    )


def _credit_note(note: CreditNote) -> str:
    sale = note.transaction
    return (
        f"{note.number} · sale {sale.number} · {sale.customer.code} {sale.customer.name} · "
        f"{display.money(note.amount)}"
    )


def _payment(payment: Payment) -> str:
    reversed_ = " · reversed" if payment.reversed_at else ""
    return (
        f"{payment.number} · {payment.customer.code} {payment.customer.name} · "
        f"{display.money(payment.amount)} · {display.day(payment.received_on)}{reversed_}"
    )


def _return(ret: CylinderReturn) -> str:
    return (
        f"{ret.number} · {ret.customer.code} {ret.customer.name} · {display.day(ret.occurred_at)}"
    )


def _cashup(cashup: CashUp) -> str:
    return (
        f"{cashup.number} · {cashup.sales_rep} · counted {display.money(cashup.counted_cash)}"
        f" · {display.day(cashup.created_at)}"
    )


document_kind(
    order=20,
    title="Sales",
    model=Transaction,
    prefix="TX",
    describe=_sale,
    select_related=("customer",),
)
document_kind(
    order=30,
    title="Credit notes",
    model=CreditNote,
    prefix="CN",
    describe=_credit_note,
    select_related=("transaction__customer",),
)
document_kind(
    order=40,
    title="Payments and receipts",
    model=Payment,
    prefix="PAY",
    describe=_payment,
    select_related=("customer",),
)
document_kind(
    order=60,
    title="Cylinder returns",
    model=CylinderReturn,
    prefix="RET",
    describe=_return,
    select_related=("customer",),
)
document_kind(
    order=90,
    title="Cash-ups",
    model=CashUp,
    prefix="CU",
    describe=_cashup,
    select_related=("sales_rep",),
)
