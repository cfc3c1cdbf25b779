"""The representative's day: the cash they should be holding, and their documents of a
day with the vehicle's stock (what the handheld shows before the cash-up, and what the
manager's cash-up form previews).

The cash a representative should hold is one rule, written here once and used by
`sales.services.cashup_post`, the admin's preview and `GET /api/me/day/`:

    expected = cash sales + cash payments received - cash deposit refunds paid out

- cash sales: the totals of their CASH sales, less the credit notes of their CASH sales
  (a void hands the money back, or it was never taken): a sale and its void net to
  nothing when both fall before one cash-up; a sale counted in an earlier cash-up and
  voided after it is taken off the next one (the money handed back then);
- cash payments: CASH payments they received (`received_by`), less those reversed (a
  mistaken entry, money given back): a payment and its reversal likewise net to nothing;
- cash refunds: the deposit they paid out in cash (`HoldingEntry` refund_to CASH, by
  cylinder returns, sales taking back more empties than they deliver, and voids); a
  void that takes a refund back counts against it (the customer gives the money back).

Each figure is counted from the representative's first document up to the moment asked
for, less what their earlier cash-ups already expected: every document counts in exactly
one cash-up, also one that committed after a cash-up read the figures although it was
posted (created_at) a moment before it (it counts in the next one).
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.models import User
from sales.custody_models import CylinderReturn, HoldingEntry, RefundTo
from sales.day_models import CashUp
from sales.documents import CreditNote, Payment, PaymentMethod
from sales.models import PaymentType, Transaction, TransactionStatus
from stock.models import Distribution, StockLevel, StockMovement

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class CashFigures:
    """What a representative should hand in: the parts and their sum. `period_start`:
    the previous cash-up's posting moment (None: none yet)."""

    cash_sales: Decimal
    cash_payments: Decimal
    cash_refunds: Decimal
    period_start: datetime | None

    @property
    def expected(self) -> Decimal:
        return self.cash_sales + self.cash_payments - self.cash_refunds

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.period_start,
            "cash_sales": self.cash_sales,
            "cash_payments": self.cash_payments,
            "cash_refunds": self.cash_refunds,
            "expected": self.expected,
        }


def _sum(queryset: QuerySet[Any], field: str) -> Decimal:
    # quantized: SQLite sums decimals as floats (and drops trailing zeros)
    return Decimal(queryset.aggregate(total=Coalesce(Sum(field), ZERO))["total"]).quantize(CENT)


def cash_taken(*, sales_rep: User, until: datetime) -> tuple[Decimal, Decimal, Decimal]:
    """(cash sales, cash payments, cash refunds) of the representative from their first
    document to `until` (inclusive, by posting time): the rules in the module's text."""
    sales = _sum(
        Transaction.objects.filter(
            sales_rep=sales_rep, payment_type=PaymentType.CASH, created_at__lte=until
        ),
        "total_amount",
    ) - _sum(
        CreditNote.objects.filter(
            transaction__sales_rep=sales_rep,
            transaction__payment_type=PaymentType.CASH,
            created_at__lte=until,
        ),
        "amount",
    )
    payments = Payment.objects.filter(received_by=sales_rep, method=PaymentMethod.CASH)
    received = _sum(payments.filter(created_at__lte=until), "amount") - _sum(
        payments.filter(reversed_at__lte=until), "amount"
    )
    refunds = -_sum(
        HoldingEntry.objects.filter(
            sales_rep=sales_rep, refund_to=RefundTo.CASH, created_at__lte=until
        ),
        "deposit",
    )
    return sales, received, refunds


def cash_expected(*, sales_rep: User, at: datetime | None = None) -> CashFigures:
    """The cash the representative should hand in at `at` (None: now): everything taken
    up to then less what their earlier cash-ups expected. Inside cashup_post this runs
    under the representative's row lock (no other cash-up or sale of theirs in flight)."""
    until = at or timezone.now()
    sales, payments, refunds = cash_taken(sales_rep=sales_rep, until=until)
    earlier = CashUp.objects.filter(sales_rep=sales_rep).aggregate(
        sales=Coalesce(Sum("cash_sales"), ZERO),
        payments=Coalesce(Sum("cash_payments"), ZERO),
        refunds=Coalesce(Sum("cash_refunds"), ZERO),
        last=Max("created_at"),
    )
    return CashFigures(
        cash_sales=(sales - earlier["sales"]).quantize(CENT),
        cash_payments=(payments - earlier["payments"]).quantize(CENT),
        cash_refunds=(refunds - earlier["refunds"]).quantize(CENT),
        period_start=earlier["last"],
    )


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The start of `day` and of the next, in the business time zone."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
    return start, end


def vehicle_stock_at(*, sales_rep: User, at: datetime) -> list[dict[str, Any]]:
    """The representative's vehicle stock at `at`: the levels as they stand, less the
    ledger's movements onto the vehicle since, plus those off it (a replay backwards).
    Rows {"product", "state", "quantity"}, by product code and state, zero rows left out."""
    held: dict[tuple[str, str], int] = defaultdict(int)
    for code, state, quantity in StockLevel.objects.filter(sales_rep=sales_rep).values_list(
        "product__code", "state", "quantity"
    ):
        held[(code, state)] += quantity
    later = StockMovement.objects.filter(sales_rep=sales_rep, created_at__gt=at)
    for side, sign in (("to_level", -1), ("from_level", 1)):
        rows = (
            later.filter(**{f"{side}__sales_rep": sales_rep})
            .values_list("product__code", "state")
            .annotate(total=Sum("quantity"))
        )
        for code, state, total in rows:
            held[(code, state)] += sign * total
    return [
        {"product": code, "state": state, "quantity": quantity}
        for (code, state), quantity in sorted(held.items())
        if quantity
    ]


def _money(value: Decimal | None) -> Decimal:
    return value if value is not None else ZERO


def representative_day(*, sales_rep: User, day: date) -> dict[str, Any]:
    """The representative's documents of `day` (business time zone, by occurred_at: when
    they happened on the handheld) with their totals, the cash they should hold now, the
    vehicle's stock at the start of the day and at its end (now, for today), and the
    customers they visited (a sale, a payment or a return)."""
    start, end = day_bounds(day)
    now = timezone.now()
    when = Q(occurred_at__gte=start, occurred_at__lt=end)
    sales = list(
        Transaction.objects.filter(when, sales_rep=sales_rep)
        .select_related("customer")
        .order_by("occurred_at", "id")
    )
    payments = list(
        Payment.objects.filter(when, received_by=sales_rep)
        .select_related("customer")
        .order_by("occurred_at", "id")
    )
    returns = list(
        CylinderReturn.objects.filter(when, sales_rep=sales_rep)
        .select_related("customer")
        .annotate(cylinders=Coalesce(Sum("lines__quantity"), 0))
        .order_by("occurred_at", "id")
    )
    distributions = list(
        Distribution.objects.filter(when, sales_rep=sales_rep)
        .annotate(lines_count=Count("lines"), cylinders=Coalesce(Sum("lines__quantity"), 0))
        .order_by("occurred_at", "id")
    )
    posted = [s for s in sales if s.status == TransactionStatus.POSTED]
    in_force = [p for p in payments if p.reversed_at is None]
    visited: dict[int, Any] = {}
    for document in [*sales, *payments, *returns]:
        visited.setdefault(document.customer_id, document.customer)
    return {
        "date": day,
        "sales": [
            {
                "number": s.number,
                "customer": s.customer.code,
                "payment_type": s.payment_type,
                "total": s.total_amount,
                "status": s.status,
                "occurred_at": s.occurred_at,
            }
            for s in sales
        ],
        "payments": [
            {
                "number": p.number,
                "customer": p.customer.code,
                "method": p.method,
                "amount": p.amount,
                "reversed": p.reversed_at is not None,
                "occurred_at": p.occurred_at,
            }
            for p in payments
        ],
        "returns": [
            {
                "number": r.number,
                "customer": r.customer.code,
                "cylinders": r.cylinders,
                "refund": r.refund_amount,
                "refund_to": r.refund_to,
                "occurred_at": r.occurred_at,
            }
            for r in returns
        ],
        "distributions": [
            {
                "number": d.distribution_no,
                "kind": d.kind,
                "cylinders": d.cylinders or d.quantity,
                "occurred_at": d.occurred_at,
            }
            for d in distributions
        ],
        "totals": {
            "sales": len(posted),
            "voided": len(sales) - len(posted),
            "cash_sales": sum(
                (s.total_amount for s in posted if s.payment_type == PaymentType.CASH), ZERO
            ),
            "credit_sales": sum(
                (s.total_amount for s in posted if s.payment_type == PaymentType.CREDIT), ZERO
            ),
            "payments": sum((p.amount for p in in_force), ZERO),
            "cash_payments": sum(
                (p.amount for p in in_force if p.method == PaymentMethod.CASH), ZERO
            ),
            "returns": len(returns),
            "refunds": sum((_money(r.refund_amount) for r in returns), ZERO),
            "distributions": len(distributions),
        },
        "cash": cash_expected(sales_rep=sales_rep, at=now).as_dict(),
        "vehicle_start": vehicle_stock_at(sales_rep=sales_rep, at=start),
        "vehicle_end": vehicle_stock_at(sales_rep=sales_rep, at=min(end, now)),
        "customers_visited": [
            {"code": c.code, "name": c.name} for c in sorted(visited.values(), key=lambda c: c.code)
        ],
    }
