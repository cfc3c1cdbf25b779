"""Statements of account: what a credit customer was charged and paid over a period, with
the balance brought forward, a running balance, the balance carried and its ageing.

Every entry is dated by its posting (created_at: when the document was issued, or for a
reversal when the payment was reversed), never by a date a user may set, so a statement of
a past period always reads the same. The documents that move a credit customer's balance
are the ones DESIGN.md's balance names: credit sales (invoices; a voided one too, since its
credit note takes it off), their credit notes, payments, reversed payments (which
count back), and deposit refunds credited to the account (a cylinder return's, or a
sale's that took back more empties than it delivered; the void of such a sale puts its
refund back, a debit). Cash sales are paid at the counter and never enter an account.

The balance at a moment is those documents' sum up to it, so a statement to today closes
on exactly sales.selectors.customer_balance.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db.models import DecimalField, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing.services.compiled import CompiledQuery
from sales.amounts import MONEY
from sales.models import (
    CreditNote,
    Customer,
    HoldingEntry,
    Payment,
    PaymentType,
    RefundTo,
    Transaction,
)

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
# Before any document: periods starting earlier start here (no datetime overflow).
EARLIEST = date(2000, 1, 1)

# An entry's kind, in the order entries of one moment are listed.
INVOICE, CREDIT_NOTE, PAYMENT, REVERSAL = "INVOICE", "CREDIT_NOTE", "PAYMENT", "REVERSAL"
DEPOSIT_REFUND, DEPOSIT_REFUND_VOID = "DEPOSIT_REFUND", "DEPOSIT_REFUND_VOID"
KIND_LABELS = {
    INVOICE: "Tax invoice",
    DEPOSIT_REFUND: "Deposit refund",
    CREDIT_NOTE: "Credit note",
    DEPOSIT_REFUND_VOID: "Deposit refund reversed",
    PAYMENT: "Payment received",
    REVERSAL: "Payment reversed",
}
_KIND_ORDER = {kind: n for n, kind in enumerate(KIND_LABELS)}

# Ageing buckets: days since the invoice, at the statement's last day.
AGEING_LABELS = ("Current (0 to 30 days)", "31 to 60 days", "61 to 90 days", "Over 90 days")


class StatementEntry(NamedTuple):
    """One line of a statement: (date, kind, number, debit, credit, balance). Debit is what
    the customer was charged, credit what was taken off; balance runs after the line."""

    date: date
    kind: str
    number: str
    debit: Decimal
    credit: Decimal
    balance: Decimal

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


class Ageing(NamedTuple):
    """What is unpaid at the statement's last day, by the age of the invoices it is on."""

    current: Decimal
    days_31_60: Decimal
    days_61_90: Decimal
    over_90: Decimal

    @property
    def total(self) -> Decimal:
        return self.current + self.days_31_60 + self.days_61_90 + self.over_90

    def labelled(self) -> list[tuple[str, Decimal]]:
        return list(zip(AGEING_LABELS, self, strict=True))


@dataclass(frozen=True)
class Statement:
    """A customer's statement for date_from..date_to (both days included)."""

    customer: Customer
    date_from: date
    date_to: date
    opening_balance: Decimal
    closing_balance: Decimal
    entries: list[StatementEntry] = field(default_factory=list)
    ageing: Ageing = field(default_factory=lambda: Ageing(ZERO, ZERO, ZERO, ZERO))
    generated_at: datetime = field(default_factory=timezone.now)

    @property
    def total_debits(self) -> Decimal:
        return sum((e.debit for e in self.entries), ZERO)

    @property
    def total_credits(self) -> Decimal:
        return sum((e.credit for e in self.entries), ZERO)


def day_start(day: date) -> datetime:
    """The first moment of `day` in the business time zone (TIME_ZONE, whatever zone a
    request may have activated)."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def business_day(moment: datetime) -> date:
    """The day of `moment` in the business time zone."""
    return timezone.localdate(moment, timezone.get_default_timezone())


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"  # 5 Dec 2026


def statement_period_check(*, date_from: date | None, date_to: date | None) -> None:
    """Refuse a period a statement cannot cover, naming the field at fault."""
    errors: dict[str, ValidationError] = {}
    if date_from is None:
        errors["date_from"] = ValidationError(
            "Give the first day of the statement.", code="statement_date_missing"
        )
    if date_to is None:
        errors["date_to"] = ValidationError(
            "Give the last day of the statement.", code="statement_date_missing"
        )
    if date_from is not None and date_to is not None and date_to < date_from:
        errors["date_to"] = ValidationError(
            "The period ends (%(to)s) before it begins (%(from)s).",
            code="statement_period_reversed",
            params={"to": _day(date_to), "from": _day(date_from)},
        )
    today = business_day(timezone.now())
    if date_from is not None and date_from > today:
        errors["date_from"] = ValidationError(
            "The period begins in the future (%(from)s); today is %(today)s.",
            code="statement_period_future",
            params={"from": _day(date_from), "today": _day(today)},
        )
    if errors:
        raise ValidationError(errors)


def _credit_sales(customer: Customer) -> QuerySet[Transaction]:
    return Transaction.objects.filter(customer=customer, payment_type=PaymentType.CREDIT)


def _credit_notes(customer: Customer) -> QuerySet[CreditNote]:
    return CreditNote.objects.filter(
        transaction__customer=customer, transaction__payment_type=PaymentType.CREDIT
    )


def _account_refunds(customer: Customer) -> QuerySet[HoldingEntry]:
    """The customer's holding-ledger rows that moved their account: deposits refunded to
    it (deposit < 0) and, by a void, taken back off it (deposit > 0)."""
    return HoldingEntry.objects.filter(customer=customer, refund_to=RefundTo.ACCOUNT)


def _total(queryset: QuerySet, group: str, column: str) -> Coalesce:  # type: ignore[type-arg]
    """The sum of `column` over `queryset` (one customer's rows), as a subquery."""
    summed = queryset.order_by().values(group).annotate(total=Sum(column)).values("total")[:1]
    return Coalesce(Subquery(summed), Value(ZERO), output_field=DecimalField(**MONEY))


def _balance_query(op: str) -> CompiledQuery:
    """balance_at's one query, with `op` ("lt" or "lte") on the moments; compiled once
    per process (billing.services.compiled: its four subqueries took milliseconds to
    compile on every invoice rendered)."""

    def build(customer_id: int, before: datetime) -> QuerySet:  # type: ignore[type-arg]
        customer = Customer(pk=customer_id)
        payments = Payment.objects.filter(customer=customer)
        return (
            Customer.objects.filter(pk=customer_id)
            .annotate(
                sold=_total(
                    _credit_sales(customer).filter(**{f"created_at__{op}": before}),
                    "customer",
                    "total_amount",
                ),
                credited=_total(
                    _credit_notes(customer).filter(**{f"created_at__{op}": before}),
                    "transaction__customer",
                    "amount",
                ),
                paid=_total(payments.filter(**{f"created_at__{op}": before}), "customer", "amount"),
                reversed_=_total(
                    payments.filter(**{f"reversed_at__{op}": before}), "customer", "amount"
                ),
                deposits=_total(
                    _account_refunds(customer).filter(**{f"created_at__{op}": before}),
                    "customer",
                    "deposit",
                ),
            )
            .values_list("sold", "credited", "paid", "reversed_", "deposits")
        )

    return CompiledQuery(build, customer_id=int, before=datetime)


_BALANCE_QUERIES = {False: _balance_query("lt"), True: _balance_query("lte")}


def balance_at(*, customer: Customer, before: datetime, inclusive: bool = False) -> Decimal:
    """The customer's balance from every document posted before `before` (or at it too,
    with `inclusive`): credit sales - credit notes + reversed payments - payments -
    deposit refunds credited to the account (+ their voids). One query (an invoice's
    "balance after this invoice" reads it on every rendering)."""
    rows = _BALANCE_QUERIES[inclusive].rows(customer_id=customer.pk, before=before)
    if not rows:
        raise Customer.DoesNotExist(f"no customer with id {customer.pk}")
    sold, credited, paid, reversed_, deposits = rows[0]
    return Decimal(sold - credited - paid + reversed_ + deposits).quantize(CENT)


def _period_entries(customer: Customer, start: datetime, end: datetime) -> list[tuple]:  # type: ignore[type-arg]
    """(moment, kind, id, number, debit, credit) of every document posted in [start, end)."""
    rows: list[tuple] = []  # type: ignore[type-arg]
    for moment, pk, number, amount in (
        _credit_sales(customer)
        .filter(created_at__gte=start, created_at__lt=end)
        .values_list("created_at", "pk", "number", "total_amount")
    ):
        rows.append((moment, INVOICE, pk, number, amount, ZERO))
    for moment, pk, number, amount in (
        _credit_notes(customer)
        .filter(created_at__gte=start, created_at__lt=end)
        .values_list("created_at", "pk", "number", "amount")
    ):
        rows.append((moment, CREDIT_NOTE, pk, number, ZERO, amount))
    payments = Payment.objects.filter(customer=customer)
    for moment, pk, number, amount in payments.filter(
        created_at__gte=start, created_at__lt=end
    ).values_list("created_at", "pk", "number", "amount"):
        rows.append((moment, PAYMENT, pk, number, ZERO, amount))
    for reversed_at, pk, number, amount in payments.filter(
        reversed_at__gte=start, reversed_at__lt=end
    ).values_list("reversed_at", "pk", "number", "amount"):
        rows.append((reversed_at, REVERSAL, pk, number, amount, ZERO))
    rows += _refund_entries(customer, start, end)
    rows.sort(key=lambda row: (row[0], _KIND_ORDER[row[1]], row[2]))
    return rows


def _refund_entries(customer: Customer, start: datetime, end: datetime) -> list[tuple]:  # type: ignore[type-arg]
    """One entry per document that refunded a deposit to the account in [start, end)
    (its products' ledger rows summed): a credit, or a debit where a void took it back."""
    rows: list[tuple] = []  # type: ignore[type-arg]
    refunds = (
        _account_refunds(customer)
        .filter(created_at__gte=start, created_at__lt=end)
        .order_by()
        .values("created_at", "doc_type", "doc_id", "reference")
        .annotate(total=Sum("deposit"))
        .values_list("created_at", "doc_id", "reference", "total")
    )
    for moment, doc_id, number, total in refunds:
        if total < 0:
            rows.append((moment, DEPOSIT_REFUND, doc_id or 0, number, ZERO, -total))
        elif total > 0:
            rows.append((moment, DEPOSIT_REFUND_VOID, doc_id or 0, number, total, ZERO))
    return rows


def _ageing(customer: Customer, closing: Decimal, end: datetime, last_day: date) -> Ageing:
    """Balance-forward ageing: what is owed is taken to be the newest invoices (payments
    settle the oldest first), so the closing balance is spread over the invoices still in
    force at `end`, newest first, each into the bucket of its age at `last_day`."""
    buckets = [ZERO, ZERO, ZERO, ZERO]
    remaining = closing
    if remaining <= 0:
        return Ageing(*buckets)
    invoices = (
        _credit_sales(customer)
        .filter(created_at__lt=end)
        .filter(Q(voided_at__isnull=True) | Q(voided_at__gte=end))
        .order_by("-created_at", "-id")
        .values_list("created_at", "total_amount")
    )
    for moment, total in invoices.iterator(chunk_size=200):
        share = min(total, remaining)
        age = (last_day - business_day(moment)).days
        buckets[0 if age <= 30 else 1 if age <= 60 else 2 if age <= 90 else 3] += share
        remaining -= share
        if remaining <= 0:
            break
    buckets[3] += remaining  # nothing left in practice: the balance never exceeds the invoices
    return Ageing(*buckets)


def statement_end(date_to: date, until: datetime | None) -> datetime:
    """The moment a statement's period ends: the start of the day after `date_to`, or
    `until` when that is earlier (a statement issued during its last day)."""
    end = day_start(date_to + timedelta(days=1))
    return end if until is None else min(end, until)


def statement_build(
    *, customer: Customer, date_from: date, date_to: date, until: datetime | None = None
) -> Statement:
    """The customer's statement from `date_from` to `date_to` (both days included, in the
    business time zone): opening balance, every document in order with a running balance,
    closing balance and the ageing of what is unpaid. Reads only; refuses a period that
    ends before it begins or begins in the future (ValidationError keyed by field).

    A period that ends after today is the statement to today (its date_to is today's):
    what is owed is aged at today, and the statement of a day that has not yet come
    could not read the same later. Days before EARLIEST hold no documents; the period
    starts there (so a year 1 in the form is no overflow).

    `until`: leave out what was posted at or after this moment. An issued statement
    (billing.CustomerStatement) is built again with its issue moment, so one issued
    during its last day reads the same when it is e-mailed or printed later that day."""
    statement_period_check(date_from=date_from, date_to=date_to)
    date_to = min(date_to, business_day(timezone.now()))
    start = day_start(max(date_from, EARLIEST))
    end = statement_end(date_to, until)
    opening = balance_at(customer=customer, before=start)
    balance = opening
    entries: list[StatementEntry] = []
    for moment, kind, _pk, number, debit, credit in _period_entries(customer, start, end):
        balance = balance + debit - credit
        entries.append(StatementEntry(business_day(moment), kind, number, debit, credit, balance))
    return Statement(
        customer=customer,
        date_from=date_from,
        date_to=date_to,
        opening_balance=opening,
        closing_balance=balance,
        entries=entries,
        ageing=_ageing(customer, balance, end, date_to),
    )
