"""Statements date documents by when they happened: a sale, a payment or a cylinder
return made on the last day of month M on a handheld that was offline, synced on the 2nd
of month N, is on M's statement (and in N's balance brought forward). A credit note is
dated by its void's posting. An issued statement is built again as it was issued: what
was posted after it stays out."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.services import balance_at, statement_build
from billing.services.statements import (
    CREDIT_NOTE,
    DEPOSIT_REFUND,
    INVOICE,
    PAYMENT,
    day_start,
)
from sales.models import CylinderReturn, HoldingEntry
from sales.selectors import customer_balance
from sales.services import cylinder_return, deposit_set, payment_record, sale_post, sale_void

pytestmark = pytest.mark.django_db
pytest_plugins = ["billing.tests.statement_fixtures"]

D = Decimal


def at(day, hour=10):
    return timezone.make_aware(datetime.combine(day, time(hour)))


def months():
    """(last day of month M, 2nd of month N = M + 1, N's last day): all in the past."""
    first_this = timezone.localdate().replace(day=1)
    posted_day = (first_this - timedelta(days=1)).replace(day=2)
    return posted_day.replace(day=1) - timedelta(days=1), posted_day, first_this - timedelta(1)


def statement(customer, last_day, **kwargs):
    return statement_build(
        customer=customer, date_from=last_day.replace(day=1), date_to=last_day, **kwargs
    )


def sell(ledger, quantity=1, empties=None, **moments):
    line = {"product": ledger.cylinder, "quantity": quantity}
    if empties is not None:
        line["empties_returned"] = empties
    return sale_post(
        customer=ledger.customer, sales_rep=ledger.rep, actor=ledger.rep, lines=[line], **moments
    )


def test_a_sale_synced_late_is_on_the_statement_of_the_month_it_happened(ledger):
    happened, posted, last_of_n = months()
    sale = sell(ledger, occurred_at=at(happened, 15), at=at(posted))
    m = statement(ledger.customer, happened)
    assert [(e.date, e.kind, e.number, e.debit) for e in m.entries] == [
        (happened, INVOICE, sale.number, D("3000.00"))
    ]
    assert (m.opening_balance, m.closing_balance) == (D("0.00"), D("3000.00"))
    assert m.ageing.current == D("3000.00")
    n = statement(ledger.customer, last_of_n)
    assert n.entries == []
    assert n.opening_balance == n.closing_balance == D("3000.00")


def test_a_payment_synced_late_is_on_the_statement_of_the_month_it_was_taken(ledger):
    happened, posted, last_of_n = months()
    sale = sell(ledger, at=at(happened - timedelta(days=3)))
    payment = payment_record(
        customer=ledger.customer,
        amount=D("1000.00"),
        actor=ledger.rep,
        occurred_at=at(happened, 16),
        at=at(posted, 9),
    )
    m = statement(ledger.customer, happened)
    assert [(e.date, e.kind, e.number, e.balance) for e in m.entries] == [
        (happened - timedelta(days=3), INVOICE, sale.number, D("3000.00")),
        (happened, PAYMENT, payment.number, D("2000.00")),
    ]
    n = statement(ledger.customer, last_of_n)
    assert (n.opening_balance, n.entries) == (D("2000.00"), [])
    assert n.closing_balance == customer_balance(customer=ledger.customer)


def test_a_void_is_dated_by_its_credit_note_and_the_sale_by_when_it_happened(ledger, head_office):
    happened, posted, last_of_n = months()
    sale = sell(ledger, occurred_at=at(happened, 15), at=at(posted))
    sale_void(transaction=sale, actor=head_office, reason="Wrong customer", at=at(posted, 11))
    m = statement(ledger.customer, happened)
    assert [(e.kind, e.balance) for e in m.entries] == [(INVOICE, D("3000.00"))]
    assert m.ageing.current == D("3000.00")  # voided after the month: owed at its end
    n = statement(ledger.customer, last_of_n)
    assert [(e.date, e.kind, e.credit) for e in n.entries] == [(posted, CREDIT_NOTE, D("3000.00"))]
    assert n.closing_balance == D("0.00") == customer_balance(customer=ledger.customer)


def test_a_deposit_refund_is_dated_by_its_cylinder_return(ledger, head_office):
    """HoldingEntry has only its posting's created_at: the statement reads the return's
    occurred_at through doc_type and doc_id."""
    happened, posted, last_of_n = months()
    deposit_set(
        product=ledger.cylinder,
        amount=D("1000.00"),
        actor=head_office,
        at=at(happened - timedelta(days=20)),
    )
    sell(ledger, quantity=2, empties=0, at=at(happened - timedelta(days=10)))  # 6000 + 2000
    returned = cylinder_return(
        customer=ledger.customer,
        sales_rep=ledger.rep,
        lines=[{"product": ledger.cylinder, "quantity": 1}],
        actor=ledger.rep,
        at=at(posted),
    )
    # What the sync will store (helper H1's services): when the return happened.
    CylinderReturn.objects.filter(pk=returned.pk).update(occurred_at=at(happened, 17))
    entry = HoldingEntry.objects.get(doc_id=returned.pk, doc_type="sales.cylinderreturn")
    assert timezone.localtime(entry.created_at).date() == posted
    m = statement(ledger.customer, happened)
    assert [(e.date, e.kind, e.credit) for e in m.entries][-1] == (
        happened,
        DEPOSIT_REFUND,
        D("1000.00"),
    )
    assert m.closing_balance == D("7000.00")
    n = statement(ledger.customer, last_of_n)
    assert (n.opening_balance, n.entries) == (D("7000.00"), [])
    assert balance_at(customer=ledger.customer, before=day_start(posted)) == D("7000.00")


def test_a_deposit_refund_on_a_sale_is_dated_by_the_sale(ledger, head_office):
    happened, posted, _ = months()
    deposit_set(
        product=ledger.cylinder,
        amount=D("1000.00"),
        actor=head_office,
        at=at(happened - timedelta(days=20)),
    )
    sell(ledger, quantity=2, empties=0, at=at(happened - timedelta(days=10)))
    sale = sell(ledger, quantity=1, empties=2, occurred_at=at(happened, 15), at=at(posted))
    entries = statement(ledger.customer, happened).entries
    assert [(e.date, e.kind, e.number) for e in entries[-2:]] == [
        (happened, INVOICE, sale.number),
        (happened, DEPOSIT_REFUND, sale.number),
    ]


def test_an_issued_statement_leaves_out_what_was_synced_after_it(ledger):
    """Issued on the 1st of month N (before the sync on the 2nd), month M's statement is
    built again as it read then; built afresh, it has the late sale."""
    happened, posted, _ = months()
    early = sell(ledger, at=at(happened - timedelta(days=5)))
    late = sell(ledger, occurred_at=at(happened, 15), at=at(posted))
    issued = at(posted - timedelta(days=1), 9)
    then = statement(ledger.customer, happened, until=issued)
    assert [e.number for e in then.entries] == [early.number]
    assert then.closing_balance == D("3000.00")
    assert then.ageing.total == D("3000.00")
    now = statement(ledger.customer, happened)
    assert [e.number for e in now.entries] == [early.number, late.number]
    assert now.closing_balance == D("6000.00")


def test_balance_at_cuts_by_when_documents_happened_and_were_posted(ledger):
    happened, posted, _ = months()
    sale = sell(ledger, occurred_at=at(happened, 15), at=at(posted))
    end_of_m = day_start(happened + timedelta(days=1))
    assert balance_at(customer=ledger.customer, before=end_of_m) == D("3000.00")
    assert balance_at(
        customer=ledger.customer, before=end_of_m, posted_before=sale.created_at
    ) == D("0.00")
    # As it stood right after the invoice was posted (what its copies print).
    assert balance_at(
        customer=ledger.customer,
        before=sale.created_at,
        posted_before=sale.created_at,
        inclusive=True,
    ) == D("3000.00")


def test_the_ageing_counts_from_the_day_the_sale_happened(ledger):
    """Made 31 days before the statement's last day, posted 29 days before it."""
    _, _, last_of_n = months()
    sell(
        ledger, occurred_at=at(last_of_n - timedelta(days=31), 9), at=at(last_of_n - timedelta(29))
    )
    ageing = statement(ledger.customer, last_of_n).ageing
    assert (ageing.current, ageing.days_31_60) == (D("0.00"), D("3000.00"))
