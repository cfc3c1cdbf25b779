"""A credit customer's balance at a moment, read from the documents that move it (the
ones billing.services.statements lists), each dated by when it happened; with a posting
cut, as it stood when an issued statement or a printed invoice read it."""

from datetime import UTC, datetime
from decimal import Decimal

from django.db.models import (
    Case,
    DecimalField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from billing.services.compiled import CompiledQuery
from sales.amounts import MONEY
from sales.models import (
    CreditNote,
    Customer,
    CylinderReturn,
    HoldingEntry,
    HoldingKind,
    Payment,
    PaymentType,
    RefundTo,
    Transaction,
)

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
# After every posting: balance_at without a posting cut compares with this.
NEVER = datetime(9999, 1, 1, tzinfo=UTC)


def credit_sales(customer: Customer) -> QuerySet[Transaction]:
    return Transaction.objects.filter(customer=customer, payment_type=PaymentType.CREDIT)


def credit_notes(customer: Customer) -> QuerySet[CreditNote]:
    return CreditNote.objects.filter(
        transaction__customer=customer, transaction__payment_type=PaymentType.CREDIT
    )


def account_refunds(customer: Customer) -> QuerySet[HoldingEntry]:
    """The customer's holding-ledger rows that moved their account: deposits refunded to
    it (deposit < 0) and, by a void, taken back off it (deposit > 0), each with `dated`:
    when it happened (refund_moment)."""
    entries: QuerySet[HoldingEntry] = HoldingEntry.objects.filter(
        customer=customer, refund_to=RefundTo.ACCOUNT
    ).alias(dated=refund_moment())
    return entries


def refund_moment() -> Coalesce:
    """When a holding-ledger row happened. HoldingEntry has only created_at (its
    posting): a return's refund happened when its cylinder return did, a sale's when
    the sale did (their occurred_at, one row each by primary key through doc_type and
    doc_id); a void's, a count's, by their posting (made in the office, never offline)."""
    returned = CylinderReturn.objects.filter(pk=OuterRef("doc_id")).values("occurred_at")[:1]
    sold = Transaction.objects.filter(pk=OuterRef("doc_id")).values("occurred_at")[:1]
    return Coalesce(
        Case(
            When(doc_type=CylinderReturn._meta.label_lower, then=Subquery(returned)),
            When(
                kind=HoldingKind.SALE,
                doc_type=Transaction._meta.label_lower,
                then=Subquery(sold),
            ),
            default=F("created_at"),
        ),
        F("created_at"),
    )


def _total(queryset: QuerySet, group: str, column: str) -> Coalesce:  # type: ignore[type-arg]
    """The sum of `column` over `queryset` (one customer's rows), as a subquery."""
    summed = queryset.order_by().values(group).annotate(total=Sum(column)).values("total")[:1]
    return Coalesce(Subquery(summed), Value(ZERO), output_field=DecimalField(**MONEY))


def _balance_query(op: str) -> CompiledQuery:
    """balance_at's one query, with `op` ("lt" or "lte") on the moments; compiled once
    per process (billing.services.compiled: its four subqueries took milliseconds to
    compile on every invoice rendered). A document counts when it happened before
    `before` and was posted before `posted`; a credit note and a reversal happened when
    they were posted."""

    def build(customer_id: int, before: datetime, posted: datetime = NEVER) -> QuerySet:  # type: ignore[type-arg]
        customer = Customer(pk=customer_id)
        payments = Payment.objects.filter(customer=customer)

        def cut(moment: str) -> Q:
            """Happened (`moment`) before `before`, posted before `posted`."""
            return Q(**{f"{moment}__{op}": before}) & Q(**{f"created_at__{op}": posted})

        return (
            Customer.objects.filter(pk=customer_id)
            .annotate(
                sold=_total(
                    credit_sales(customer).filter(cut("occurred_at")), "customer", "total_amount"
                ),
                credited=_total(
                    credit_notes(customer).filter(cut("created_at")),
                    "transaction__customer",
                    "amount",
                ),
                paid=_total(payments.filter(cut("occurred_at")), "customer", "amount"),
                reversed_=_total(
                    payments.filter(
                        Q(**{f"reversed_at__{op}": before}) & Q(**{f"reversed_at__{op}": posted})
                    ),
                    "customer",
                    "amount",
                ),
                deposits=_total(
                    account_refunds(customer).filter(cut("dated")), "customer", "deposit"
                ),
            )
            .values_list("sold", "credited", "paid", "reversed_", "deposits")
        )

    return CompiledQuery(build, customer_id=int, before=datetime, posted=datetime)


_BALANCE_QUERIES = {False: _balance_query("lt"), True: _balance_query("lte")}


def balance_at(
    *,
    customer: Customer,
    before: datetime,
    inclusive: bool = False,
    posted_before: datetime | None = None,
) -> Decimal:
    """The customer's balance from every document that happened before `before` (or at
    it too, with `inclusive`): credit sales - credit notes + reversed payments - payments
    - deposit refunds credited to the account (+ their voids). `posted_before`: only
    what was posted before it (at it too, with `inclusive`) as well: what an issued
    statement, or a printed invoice, showed then. One query (an invoice's "balance after
    this invoice" reads it on every rendering)."""
    rows = _BALANCE_QUERIES[inclusive].rows(
        customer_id=customer.pk, before=before, posted=posted_before or NEVER
    )
    if not rows:
        raise Customer.DoesNotExist(f"no customer with id {customer.pk}")
    sold, credited, paid, reversed_, deposits = rows[0]
    return Decimal(sold - credited - paid + reversed_ + deposits).quantize(CENT)
