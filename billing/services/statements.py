"""Statements of account: what a credit customer was charged and paid over a period, with
the balance brought forward, a running balance, the balance carried and its ageing.

Every entry is dated by when it happened: a sale and a payment by occurred_at (when it
was made on the handheld; the posting's moment when posted live), a deposit refund by its
cylinder return's or sale's occurred_at, and the documents only the office makes by their
posting (a credit note by created_at, when its void was posted; a reversal by
reversed_at). Never by a date a user may set. A document synced late from a handheld
lands in the period it happened, so a statement built again after such a sync includes
it; an issued statement is built again with `until` (its issue moment) and leaves out
what was posted after it, so its PDF always reads the same.

The documents that move a credit customer's balance are the ones DESIGN.md's balance
names: credit sales (invoices; a voided one too, since its credit note takes it off),
their credit notes, payments, reversed payments (which count back), and deposit refunds
credited to the account (a cylinder return's, or a sale's that took back more empties
than it delivered; the void of such a sale puts its refund back, a debit). Cash sales are
paid at the counter and never enter an account.

The balance at a moment is those documents' sum up to it (balance_at, in
billing.services.statement_balance), so a statement to today closes on exactly
sales.selectors.customer_balance.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db.models import F, Q, Sum
from django.utils import timezone

# "x as x": re-exported (billing.services, documents, statement_issue and bench/ import
# balance_at, CENT and _BALANCE_QUERIES from here).
from billing.services.statement_balance import _BALANCE_QUERIES as _BALANCE_QUERIES
from billing.services.statement_balance import CENT as CENT
from billing.services.statement_balance import (
    NEVER,
    ZERO,
    account_refunds,
    credit_notes,
    credit_sales,
)
from billing.services.statement_balance import balance_at as balance_at
from sales.models import Customer, Payment

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


def _period_entries(
    customer: Customer, start: datetime, end: datetime, posted: datetime
) -> list[tuple]:  # type: ignore[type-arg]
    """(moment, kind, id, number, debit, credit) of every document that happened in
    [start, end) and was posted before `posted`, in the order they happened."""

    def within(moment: str) -> Q:
        # Two Q objects: `moment` may be created_at itself.
        return Q(**{f"{moment}__gte": start, f"{moment}__lt": end}) & Q(created_at__lt=posted)

    rows: list[tuple] = []  # type: ignore[type-arg]
    for moment, pk, number, amount in (
        credit_sales(customer)
        .filter(within("occurred_at"))
        .values_list("occurred_at", "pk", "number", "total_amount")
    ):
        rows.append((moment, INVOICE, pk, number, amount, ZERO))
    for moment, pk, number, amount in (
        credit_notes(customer)
        .filter(within("created_at"))
        .values_list("created_at", "pk", "number", "amount")
    ):
        rows.append((moment, CREDIT_NOTE, pk, number, ZERO, amount))
    payments = Payment.objects.filter(customer=customer)
    for moment, pk, number, amount in payments.filter(within("occurred_at")).values_list(
        "occurred_at", "pk", "number", "amount"
    ):
        rows.append((moment, PAYMENT, pk, number, ZERO, amount))
    for reversed_at, pk, number, amount in payments.filter(
        reversed_at__gte=start, reversed_at__lt=min(end, posted)
    ).values_list("reversed_at", "pk", "number", "amount"):
        rows.append((reversed_at, REVERSAL, pk, number, amount, ZERO))
    rows += _refund_entries(customer, within("dated"))
    rows.sort(key=lambda row: (row[0], _KIND_ORDER[row[1]], row[2]))
    return rows


def _refund_entries(customer: Customer, within: Q) -> list[tuple]:  # type: ignore[type-arg]
    """One entry per document that refunded a deposit to the account `within` the
    period (its products' ledger rows summed): a credit, or a debit where a void took
    it back."""
    rows: list[tuple] = []  # type: ignore[type-arg]
    refunds = (
        account_refunds(customer)
        .filter(within)
        .annotate(happened=F("dated"))
        .order_by()
        .values("happened", "kind", "doc_type", "doc_id", "reference")
        .annotate(total=Sum("deposit"))
        .values_list("happened", "doc_id", "reference", "total")
    )
    for moment, doc_id, number, total in refunds:
        if total < 0:
            rows.append((moment, DEPOSIT_REFUND, doc_id or 0, number, ZERO, -total))
        elif total > 0:
            rows.append((moment, DEPOSIT_REFUND_VOID, doc_id or 0, number, total, ZERO))
    return rows


def _ageing(
    customer: Customer, closing: Decimal, end: datetime, last_day: date, posted: datetime
) -> Ageing:
    """Balance-forward ageing: what is owed is taken to be the newest invoices (payments
    settle the oldest first), so the closing balance is spread over the invoices still in
    force at `end` (happened before it, posted before `posted`, not voided before it),
    newest first, each into the bucket of its age at `last_day`, from the day the sale
    happened."""
    buckets = [ZERO, ZERO, ZERO, ZERO]
    remaining = closing
    if remaining <= 0:
        return Ageing(*buckets)
    invoices = (
        credit_sales(customer)
        .filter(occurred_at__lt=end, created_at__lt=posted)
        .filter(Q(voided_at__isnull=True) | Q(voided_at__gte=min(end, posted)))
        .order_by("-occurred_at", "-id")
        .values_list("occurred_at", "total_amount")
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

    Documents are dated by when they happened (see the module's docstring): one synced
    late from a handheld shows in the period it happened, and in the opening balance of
    the periods after it, once it is posted.

    `until`: leave out what was posted at or after this moment. An issued statement
    (billing.CustomerStatement) is built again with its issue moment, so it reads the
    same when it is e-mailed or printed later, whatever was synced since."""
    statement_period_check(date_from=date_from, date_to=date_to)
    date_to = min(date_to, business_day(timezone.now()))
    start = day_start(max(date_from, EARLIEST))
    end = statement_end(date_to, until)
    posted = until or NEVER
    opening = balance_at(customer=customer, before=start, posted_before=posted)
    balance = opening
    entries: list[StatementEntry] = []
    for moment, kind, _pk, number, debit, credit in _period_entries(customer, start, end, posted):
        balance = balance + debit - credit
        entries.append(StatementEntry(business_day(moment), kind, number, debit, credit, balance))
    return Statement(
        customer=customer,
        date_from=date_from,
        date_to=date_to,
        opening_balance=opening,
        closing_balance=balance,
        entries=entries,
        ageing=_ageing(customer, balance, end, date_to, posted),
    )
