"""The model and the checks of the whole-business state machine (test_business_stateful).

- money arithmetic as DESIGN.md "Money and tax" states it, written again here (not
  imported from the services), so the machine predicts each document's amounts;
- footprint(): what a refused step must leave as it found (rows, quantities, money);
- database_checks(): the invariants that hold of the whole database after every step:
  nothing negative, the stock ledger and the holding ledger replay, cylinders conserved
  (what check_stock runs), receivables add up (what check_money runs), each sale's total
  is its parts and each void has one credit note of that total, balances are the sum of
  their documents, meter readings form a rising chain, document numbers are gapless,
  and the audit chain holds (verify_audit's walk, from the last entry verified on).
"""

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Count, F, Q, Sum

from core.models import AuditLog, DocumentCounter, OutboxMessage
from core.selectors import audit_chain_check
from sales.models import (
    CashUp,
    CreditNote,
    Customer,
    CylinderHolding,
    CylinderReturn,
    HoldingEntry,
    MeterSale,
    Payment,
    PaymentAllocation,
    PaymentType,
    RefundTo,
    Transaction,
    TransactionLine,
    TransactionStatus,
)
from sales.money_checks import MONEY_CHECKS
from stock.checks_registry import check_snapshot, stock_checks
from stock.custody_models import StockCount, Transfer
from stock.models import Distribution, StockLevel, StockMovement
from stock.selectors import ledger_differences, vehicle_depot_differences

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(amount: Decimal) -> Decimal:
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def tax_of(subtotal: Decimal, rate: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """(net, tax, total) of a document's taxable subtotal at `rate` percent."""
    if settings.PRICES_INCLUDE_TAX:
        tax = money(subtotal * rate / (100 + rate))
        return subtotal - tax, tax, subtotal
    tax = money(subtotal * rate / 100)
    return subtotal, tax, subtotal + tax


def average_refund(held: int, deposit: Decimal, returned: int) -> Decimal:
    """The average deposit paid per cylinder held, on `returned` of `held` cylinders."""
    if returned == 0:
        return ZERO
    if returned == held:
        return deposit
    return money(deposit * returned / held)


@dataclass
class Holding:
    quantity: int = 0
    deposit: Decimal = ZERO


@dataclass
class SaleLineRecord:
    quantity: int
    empties: int
    charge: Decimal
    refund: Decimal


@dataclass
class SaleRecord:
    """A sale the machine posted, with what the model expects of it."""

    obj: Transaction
    rep: int
    customer: int
    lines: dict[str, SaleLineRecord]
    meter: tuple[Decimal, Decimal] | None  # (last reading, latest reading)
    total: Decimal
    voided: bool = False


@dataclass
class PaymentRecord:
    obj: Payment
    customer: int
    amount: Decimal
    method: str
    receiver: int | None  # a representative's index; None: head office
    reversed: bool = False


@dataclass
class CashUpRecord:
    obj: CashUp
    by_boss: bool
    variance: Decimal
    confirmed: bool = False


@dataclass
class Ledger:
    """Where the model keeps money: balances per customer, cash per representative."""

    balance: dict[int, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    cash: dict[int, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))

    def refund_entry(self, *, customer: int, credit: bool, rep: int, deposit: Decimal) -> None:
        """A holding entry's deposit that moves money: on a credit customer's account
        (part of the balance), else in the representative's cash (their cash-up)."""
        if credit:
            self.balance[customer] += deposit
        else:
            self.cash[rep] += deposit


def footprint() -> dict[str, object]:
    """Everything a refused step must leave as it was."""
    counts = {
        model.__name__: model.objects.count()
        for model in (
            StockMovement,
            StockLevel,
            Distribution,
            Transfer,
            StockCount,
            HoldingEntry,
            CylinderHolding,
            CylinderReturn,
            Transaction,
            TransactionLine,
            MeterSale,
            CreditNote,
            Payment,
            PaymentAllocation,
            CashUp,
            AuditLog,
            OutboxMessage,
        )
    }
    sums = {
        "stock": StockLevel.objects.aggregate(s=Sum("quantity"))["s"],
        "held": CylinderHolding.objects.aggregate(q=Sum("quantity"), d=Sum("deposit_held")),
        "counters": sorted(DocumentCounter.objects.values_list("series", "year", "last_value")),
        "paid": Transaction.objects.aggregate(s=Sum("amount_paid"))["s"],
        "void": Transaction.objects.filter(status=TransactionStatus.VOID).count(),
        "allocated": Payment.objects.aggregate(s=Sum("allocated"))["s"],
        "reversed": Payment.objects.filter(reversed_at__isnull=False).count(),
        "confirmed": CashUp.objects.filter(confirmed_at__isnull=False).count(),
        "meters": sorted(Customer.objects.values_list("pk", "last_meter_reading")),
    }
    return {**counts, **sums}


def _dec(value: object) -> Decimal:
    return money(Decimal(str(value or 0)))


def sales_add_up(customers: list[Customer]) -> None:
    """Invariant 12 per document: a sale's total is its lines + meter + tax + deposit; a
    void has exactly one credit note, of the sale's total; a posted sale has none."""
    subtotals = dict(
        TransactionLine.objects.filter(transaction__customer__in=customers)
        .values("transaction")
        .annotate(s=Sum("subtotal"))
        .values_list("transaction", "s")
    )
    meters = dict(
        MeterSale.objects.filter(transaction__customer__in=customers).values_list(
            "transaction", "subtotal"
        )
    )
    sales = Transaction.objects.filter(customer__in=customers).annotate(
        notes=Count("credit_note"), noted=Sum("credit_note__amount")
    )
    for sale in sales:
        subtotal = _dec(subtotals.get(sale.pk)) + _dec(meters.get(sale.pk))
        net, tax, _ = tax_of(subtotal, sale.tax_rate)
        assert (sale.net_amount, sale.tax_amount) == (net, tax), sale.number
        assert sale.total_amount == sale.net_amount + sale.tax_amount + sale.deposit_amount
        if sale.status == TransactionStatus.VOID:
            assert sale.notes == 1, sale.number
            assert _dec(sale.noted) == sale.total_amount, sale.number
        else:
            assert sale.notes == 0, sale.number


def _per_customer(queryset, key: str, amount) -> dict[int, Decimal]:
    rows = queryset.order_by().values(key).annotate(s=Sum(amount)).values_list(key, "s")
    return {customer: _dec(total) for customer, total in rows}


def balances_from_documents(customers: list[Customer]) -> dict[int, Decimal]:
    """DESIGN.md: the totals of their credit sales (voided ones too) - their credit notes
    - payments + reversed payments - deposit refunds credited to their account."""
    credit = Transaction.objects.filter(customer__in=customers, payment_type=PaymentType.CREDIT)
    payments = Payment.objects.filter(customer__in=customers)
    sold = _per_customer(credit, "customer", "total_amount")
    noted = _per_customer(
        CreditNote.objects.filter(transaction__in=credit), "transaction__customer", "amount"
    )
    paid = _per_customer(payments, "customer", "amount")
    back = _per_customer(payments.filter(reversed_at__isnull=False), "customer", "amount")
    refunds = HoldingEntry.objects.filter(customer__in=customers, refund_to=RefundTo.ACCOUNT)
    credited = _per_customer(refunds, "customer", "deposit")
    return {
        c.pk: sum((d.get(c.pk, ZERO) for d in (sold, back, credited)), ZERO)
        - noted.get(c.pk, ZERO)
        - paid.get(c.pk, ZERO)
        for c in customers
    }


def unpaid_dues(customers: list[Customer]) -> dict[int, Decimal]:
    """What the customers' unpaid credit sales still owe."""
    unpaid = Transaction.objects.unpaid_credit().filter(customer__in=customers)
    return _per_customer(unpaid, "customer", F("total_amount") - F("amount_paid"))


def meter_readings(customers: list[Customer]) -> dict[int, Decimal]:
    """Invariant 4: each customer's posted meter sales, in order, form a rising chain,
    and the customer's last reading is its end. Returns {customer id: last reading}."""
    last_readings = dict(
        Customer.objects.filter(pk__in=[c.pk for c in customers]).values_list(
            "pk", "last_meter_reading"
        )
    )
    posted = MeterSale.objects.filter(
        transaction__customer__in=customers, transaction__status=TransactionStatus.POSTED
    ).order_by("transaction_id")
    chains = defaultdict(list)
    for customer, *reading in posted.values_list(
        "transaction__customer", "last_reading", "latest_reading", "quantity"
    ):
        chains[customer].append(reading)
    for customer, readings in chains.items():
        for (_, before, _), (after, _, _) in itertools.pairwise(readings):
            assert after == before, readings
        for last, latest, quantity in readings:
            assert latest > last, readings
            assert quantity == latest - last, readings
        assert last_readings[customer] == readings[-1][1], readings
    return last_readings


def numbers_gapless() -> None:
    """Invariant 6: each series' numbers of a year are 1..N with no gap or repeat."""
    numbered = [Transaction, CreditNote, Payment, CylinderReturn, CashUp, Transfer, StockCount]
    for model, name in [*((m, "number") for m in numbered), (Distribution, "distribution_no")]:
        per_year: dict[str, list[int]] = defaultdict(list)
        for number in model.objects.values_list(name, flat=True):
            series, year, counter = number.split("-")
            per_year[f"{series}-{year}"].append(int(counter))
        for key, counters in per_year.items():
            assert sorted(counters) == list(range(1, len(counters) + 1)), key


def database_checks(audit_from: tuple[int, str] | None) -> tuple[int, str]:
    """The whole-database invariants; returns the audit chain's head, to walk on from."""
    assert not StockLevel.objects.filter(quantity__lt=0).exists()
    assert not CylinderHolding.objects.filter(Q(quantity__lt=0) | Q(deposit_held__lt=0)).exists()
    assert not CylinderHolding.objects.filter(quantity=0, deposit_held__gt=0).exists()
    with check_snapshot():
        assert list(ledger_differences()) == []
        assert list(vehicle_depot_differences()) == []
        for check in (*stock_checks, *MONEY_CHECKS):  # check_stock's and check_money's
            outcome = check()
            assert outcome.differences == [], outcome.summary
    numbers_gapless()
    audit = audit_chain_check(start=audit_from)  # verify_audit's walk
    assert audit.intact, audit.problem
    return audit.head_seq, audit.head_hash
