"""Customers' cylinders held and the deposits on them: what a sale, a return, a void or a
count does to a customer's holdings (DESIGN.md "Money and tax").

Call everything here with the customer's row locked (sales.services.common.lock_customer):
every writer of a customer's holdings takes that lock first, so the holdings read here
cannot change before they are written, and no holding row needs a lock of its own.

A holding grows by a sale's `quantity - empties_returned` and is charged the deposit in
force on each cylinder it grows by (none for a deposit_exempt customer). It shrinks by a
return, or by a sale taking back more empties than it delivers, and refunds the average
the customer paid per cylinder held (refund_average), so refunds never exceed deposits
held (an exempt customer has paid none, unless before they became exempt: that is
refunded as it comes back). A refund is credited to a credit customer's account
(refund_to ACCOUNT: part of customer_balance) or paid out in cash by the representative
(CASH: their cash-up).

A void reverses its sale's cylinders exactly and its deposit (the credit note gives the
charge back), then settles with the customer whatever that leaves below zero or on no
cylinders (void_changes): the deposit held is never negative, and none is held on no
cylinders."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, models

from core.models import User
from core.numbers import money_text
from sales.custody_selectors import deposits_in_force
from sales.models import (
    Customer,
    CylinderHolding,
    HoldingEntry,
    PaymentType,
    RefundTo,
    Transaction,
    TransactionLine,
)
from sales.services.common import money
from sales.services.lines import SaleLine
from stock.models import Product

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Held:
    """A customer's holding of one product as it stands."""

    quantity: int = 0
    deposit: Decimal = ZERO


@dataclass(frozen=True)
class HoldingChange:
    """One entry of the holding ledger to post: `quantity` cylinders added (+) or taken
    back (-), `deposit` charged (+) or refunded (-), refund_to where a refund went."""

    product: Product
    quantity: int
    deposit: Decimal = ZERO
    refund_to: str = RefundTo.NONE
    note: str = ""  # the entry's own note, instead of the posting's


@dataclass(frozen=True)
class LineDeposit:
    """What one sale line charged and refunded: the deposit per cylinder in force (0 for
    an exempt customer), the charge on the cylinders the holding grew by, the refund on
    those it shrank by."""

    rate: Decimal
    deposit: Decimal
    refund: Decimal


@dataclass(frozen=True)
class SaleDeposits:
    lines: list[LineDeposit]
    changes: list[HoldingChange]
    charged: Decimal  # part of the sale's total
    refunded: Decimal  # not part of it: credited to the account or paid out in cash
    refund_to: str


def refund_to_for(customer: Customer) -> str:
    """Where a refund to this customer goes: their account (credit) or cash (cash)."""
    return RefundTo.ACCOUNT if customer.payment_type == PaymentType.CREDIT else RefundTo.CASH


def refund_average(*, quantity_held: int, deposit_held: Decimal, returned: int) -> Decimal:
    """The deposit refunded on `returned` of `quantity_held` cylinders for which the
    customer paid `deposit_held`: the average paid per cylinder, rounded half-up to
    cents; all of it when every cylinder comes back. Never more than deposit_held."""
    if returned < 0 or returned > quantity_held:
        raise ValueError(f"cannot take back {returned} of {quantity_held} cylinders")
    if returned == 0:
        return ZERO
    if returned == quantity_held:
        return deposit_held
    return money(deposit_held * returned / quantity_held)


def holdings_read(customer: Customer, products: Iterable[Product]) -> dict[int, Held]:
    """The customer's holdings of `products`, in one query: {product id: Held} (a product
    never held is left out)."""
    ids = {product.pk for product in products}
    if not ids:
        return {}
    rows = CylinderHolding.objects.filter(customer=customer, product_id__in=ids).values_list(
        "product_id", "quantity", "deposit_held"
    )
    return {product_id: Held(quantity, deposit) for product_id, quantity, deposit in rows}


def more_than_held(
    customer: Customer, product: Product, held: int, taken: int, field: str, detail: str = ""
) -> ValidationError:
    """The refusal of taking back more cylinders than the customer holds."""
    noun = "cylinder" if held == 1 else "cylinders"
    return ValidationError(
        {
            field: ValidationError(
                f"Customer {customer.code} holds {held} {product.code} {noun}; "
                f"{detail or ''}{taken} cannot be taken back.",
                code="more_than_held",
            )
        }
    )


def sale_deposits(*, customer: Customer, lines: list[SaleLine], at: datetime) -> SaleDeposits:
    """What a sale's cylinder lines do to the customer's holdings and deposits, at `at`:
    the deposits in force in one query, the holdings it takes cylinders back from in one
    more. Refused (lines[i].empties_returned, more_than_held) when a line takes back more
    empties beyond those it delivers than the customer holds."""
    rates: dict[int, Decimal] = {}
    cylinders = [line.product for line in lines if line.product.is_cylinder]
    if cylinders and not customer.deposit_exempt:
        rates = deposits_in_force(products=cylinders, at=at)
    shrinking = [line.product for line in lines if line.empties_returned > line.quantity]
    held = holdings_read(customer, shrinking) if shrinking else {}
    refund_to = refund_to_for(customer)
    per_line, changes = [], []
    for index, line in enumerate(lines):
        if not line.product.is_cylinder:  # a service: nothing at the customer's site
            per_line.append(LineDeposit(ZERO, ZERO, ZERO))
            continue
        rate = rates.get(line.product.pk, ZERO)
        growth = line.quantity - line.empties_returned
        charge = refund = ZERO
        if growth > 0:
            charge = money(rate * growth)
        elif growth < 0:
            holding = held.get(line.product.pk, Held())
            if -growth > holding.quantity:
                raise more_than_held(
                    customer,
                    line.product,
                    holding.quantity,
                    -growth,
                    f"lines[{index}].empties_returned",
                    f"{line.empties_returned} empties for {line.quantity} delivered: ",
                )
            refund = refund_average(
                quantity_held=holding.quantity, deposit_held=holding.deposit, returned=-growth
            )
        per_line.append(LineDeposit(rate, charge, refund))
        changes.append(
            HoldingChange(
                line.product, growth, charge - refund, refund_to if refund else RefundTo.NONE
            )
        )
    refunded = sum((d.refund for d in per_line), ZERO)
    return SaleDeposits(
        lines=per_line,
        changes=changes,
        charged=sum((d.deposit for d in per_line), ZERO),
        refunded=refunded,
        refund_to=refund_to if refunded else RefundTo.NONE,
    )


def void_changes(
    *, customer: Customer, sale: Transaction, lines: list[TransactionLine]
) -> list[HoldingChange]:
    """The holding entries that undo what `sale` did, per line:

    - its VOID entry reverses the cylinders exactly (quantity - empties_returned,
      negated), the deposit it charged (-charged, refund_to "": the credit note gives
      the charge back as part of the sale's total) and any refund it made (+refunded,
      going where the refund went);
    - then, when that would leave the deposit held below zero (returns since refunded
      the average, more than this sale's charge left) or leave deposit on no cylinders
      (never refundable), a second VOID entry settles the difference with the customer,
      so that the deposit held ends at max(0, result) while cylinders remain and at 0
      when none do: + the customer gives back a refund paid earlier, - the deposit left
      is refunded; to a credit customer's account (ACCOUNT), in cash by the sale's
      representative to a cash customer (CASH), by the customer's terms now. It is
      written before the reversal when it gives back (+), after it when it refunds (-),
      so that the ledger's running deposit never goes below zero.

    Refused (holding_negative) only when the customer holds fewer cylinders than the
    void takes back (cylinders returned since the sale)."""
    refund_to = RefundTo.ACCOUNT if sale.payment_type == PaymentType.CREDIT else RefundTo.CASH
    # Settled with the customer on their terms now, as a return's refund is (their terms
    # change only on a settled account: sales.services.customers).
    settle_to = refund_to_for(customer)
    reversals = [
        HoldingChange(
            line.product,
            line.empties_returned - line.quantity,
            line.deposit_refund - line.deposit,
            refund_to if line.deposit_refund else RefundTo.NONE,
        )
        for line in lines
        if line.product.is_cylinder  # a service line left nothing at the customer's site
    ]
    held = holdings_read(customer, [c.product for c in reversals]) if reversals else {}
    changes: list[HoldingChange] = []
    for change in reversals:
        holding = held.get(change.product.pk, Held())
        quantity = holding.quantity + change.quantity
        if quantity < 0:
            raise ValidationError(
                f"{sale.number} cannot be voided: it gave customer {customer.code} "
                f"{-change.quantity} {change.product.code} cylinders beyond the empties "
                f"taken back, and they now hold {holding.quantity} (deposit "
                f"{money_text(holding.deposit)}): cylinders have been returned since. "
                "Set their cylinders held first (a count), or leave the sale posted.",
                code="holding_negative",
            )
        deposit = holding.deposit + change.deposit
        target = max(deposit, ZERO) if quantity else ZERO
        if target > deposit:
            changes.append(_void_settlement(sale, change.product, target - deposit, settle_to))
        changes.append(change)
        if target < deposit:
            changes.append(_void_settlement(sale, change.product, target - deposit, settle_to))
    return changes


def _void_settlement(
    sale: Transaction, product: Product, deposit: Decimal, refund_to: str
) -> HoldingChange:
    """The second VOID entry of void_changes: `deposit` settled with the customer."""
    account = refund_to == RefundTo.ACCOUNT
    rep = sale.sales_rep.username
    if deposit > 0:
        note = (
            f"Deposit refunded earlier on returns, taken back with the void of {sale.number}: "
            f"{money_text(deposit)} "
            + ("debited to the account." if account else f"collected in cash by {rep}.")
        )
    else:
        note = (
            f"Deposit left on {product.code} cylinders no longer held, refunded with the "
            f"void of {sale.number}: {money_text(-deposit)} "
            + ("credited to the account." if account else f"paid out in cash by {rep}.")
        )
    return HoldingChange(product, 0, deposit, refund_to, note)


def _upsert_sql(rows: int) -> str:
    """One INSERT ... ON CONFLICT DO UPDATE for `rows` changes. The inserted row must
    pass the CHECK constraints even when it conflicts (it is checked first), so it
    carries the change only when it is not negative (a new holding); an existing one is
    changed by the deltas in the CASEs, keyed by product."""
    table = connection.ops.quote_name(CylinderHolding._meta.db_table)
    values = ", ".join("(%s, %s, %s, %s, %s)" for _ in range(rows))
    cases = " ".join("WHEN %s THEN %s" for _ in range(rows))
    return (
        f"INSERT INTO {table} AS h "  # noqa: S608 - our table name
        "(customer_id, product_id, quantity, deposit_held, last_movement_at) "
        f"VALUES {values} ON CONFLICT (customer_id, product_id) DO UPDATE SET "
        f"quantity = h.quantity + CASE h.product_id {cases} END, "
        # ROUND: SQLite keeps decimals as binary floats (933.33 - 933.33 may be -1e-13)
        f"deposit_held = ROUND(h.deposit_held + CASE h.product_id {cases} END, 2), "
        "last_movement_at = CASE WHEN h.last_movement_at IS NULL "
        "OR h.last_movement_at < excluded.last_movement_at "
        "THEN excluded.last_movement_at ELSE h.last_movement_at END "
        "RETURNING id, product_id"
    )


Param = int | Decimal | datetime


def _upsert_params(changes: list[HoldingChange], customer: Customer, at: datetime) -> list[Param]:
    inserted: list[Param] = [
        value
        for c in changes
        for value in (customer.pk, c.product.pk, max(c.quantity, 0), max(c.deposit, ZERO), at)
    ]
    quantities: list[Param] = [value for c in changes for value in (c.product.pk, c.quantity)]
    deposits: list[Param] = [value for c in changes for value in (c.product.pk, c.deposit)]
    return [*inserted, *quantities, *deposits]


def holdings_apply(
    changes: list[HoldingChange], *, customer: Customer, at: datetime
) -> dict[int, int]:
    """Apply `changes` to the customer's holdings (a holding is created on its first
    movement) in one statement: {product id: holding id}. The caller has checked that no
    holding goes below zero (the CHECK constraints would stop it anyway), and writes the
    entries with holding_entries_write."""
    if not changes:
        return {}
    merged: dict[int, HoldingChange] = {}  # one row per holding: a void may write two entries
    for change in changes:
        seen = merged.get(change.product.pk)
        merged[change.product.pk] = (
            change
            if seen is None
            else HoldingChange(
                change.product, seen.quantity + change.quantity, seen.deposit + change.deposit
            )
        )
    rows = list(merged.values())
    with connection.cursor() as cursor:
        cursor.execute(_upsert_sql(len(rows)), _upsert_params(rows, customer, at))
        return {product_id: pk for pk, product_id in cursor.fetchall()}


def holding_entries_write(
    changes: list[HoldingChange], holding_ids: dict[int, int], **kw: Any
) -> list[HoldingEntry]:
    """The ledger entries of changes applied by holdings_apply, in one INSERT, stamped
    `at` and naming their document. holding_entry_rows builds them without saving."""
    return HoldingEntry.objects.bulk_create(holding_entry_rows(changes, holding_ids, **kw))


def holding_entry_rows(
    changes: list[HoldingChange],
    holding_ids: dict[int, int],
    *,
    customer: Customer,
    kind: str,
    actor: User,
    at: datetime,
    document: models.Model | None = None,
    reference: str = "",
    sales_rep: User | None = None,
    note: str = "",
) -> list[HoldingEntry]:
    return [
        HoldingEntry(
            holding_id=holding_ids[change.product.pk],
            customer=customer,
            product=change.product,
            kind=kind,
            quantity=change.quantity,
            deposit=change.deposit,
            refund_to=change.refund_to,
            sales_rep=sales_rep,
            actor=actor,
            created_at=at,
            doc_type=document._meta.label_lower if document is not None else "",
            doc_id=document.pk if document is not None else None,
            reference=reference,
            note=(change.note or note)[:255],
        )
        for change in changes
    ]


def holdings_post(
    changes: list[HoldingChange],
    *,
    customer: Customer,
    kind: str,
    actor: User,
    at: datetime,
    document: models.Model | None = None,
    reference: str = "",
    sales_rep: User | None = None,
    note: str = "",
) -> list[HoldingEntry]:
    """holdings_apply, then holding_entries_write: changes and their entries at once."""
    holding_ids = holdings_apply(changes, customer=customer, at=at)
    return holding_entries_write(
        changes,
        holding_ids,
        customer=customer,
        kind=kind,
        actor=actor,
        at=at,
        document=document,
        reference=reference,
        sales_rep=sales_rep,
        note=note,
    )
