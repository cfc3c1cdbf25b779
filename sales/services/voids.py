"""Voiding a posted sale."""

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone

from core.db import atomic_with_retry
from core.models import OutboxKind, User
from core.scoping import actor_access_check
from core.services import audit_record, document_number_next
from core.services.moments import history_save, posting_moment
from sales.models import (
    CreditNote,
    HoldingKind,
    MeterSale,
    Payment,
    PaymentAllocation,
    PaymentType,
    Transaction,
    TransactionStatus,
)
from sales.services.common import lock_customer, settle
from sales.services.delivery import document_email
from sales.services.holdings import holdings_post, void_changes
from stock.models import MovementKind, StockState
from stock.services import (
    LevelKey,
    Move,
    availability_check,
    levels_lock,
    movements_post,
    sales_rep_home_depot,
)


@atomic_with_retry
def sale_void(
    *, transaction: Transaction, actor: User, reason: str, at: datetime | None = None
) -> Transaction:
    """Reverse a posted sale: cylinders back on the vehicle, empties off it, the meter
    reading restored (only if this sale holds the customer's latest reading), money
    released. The sale keeps its number and lines; its status becomes VOID, and one
    credit note (CN-YYYY-NNNNNN, for the sale's total, with the reason) reverses it:
    `transaction.credit_note`.

    `at`: the moment the void is posted (voided_at, ledger, history, audit entry); None
    means now. Only the demo seed and tests pass it: the admin and the API never do."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"reason": ValidationError("Say why the sale is voided.", code="required")}
        )
    customer = lock_customer(transaction.customer)
    sale = (
        # of=self: lock the sale only. Without it PostgreSQL locks the joined depot and
        # representative rows too, and every posting in that depot waits on them at commit
        # (its foreign-key checks), out of the lock order: deadlocks.
        Transaction.objects.select_for_update(of=("self",))
        .select_related("depot", "sales_rep")
        .get(pk=transaction.pk)
    )
    if sale.status == TransactionStatus.VOID:
        when = timezone.localtime(sale.voided_at).strftime("%Y-%m-%d %H:%M")
        by = sale.voided_by.username if sale.voided_by else "an unknown user"
        raise ValidationError(
            f"{sale.number} is already void (voided {when} by {by}: {sale.void_reason}).",
            code="already_void",
        )
    actor_access_check(actor=actor, depot=sale.depot, sales_rep=sale.sales_rep)
    lines = list(sale.lines.select_related("product"))
    # What the sale did to the customer's cylinders and deposits, undone (refused when
    # cylinders have been returned since, so that too few are left to take back).
    holding_changes = void_changes(customer=customer, sale=sale, lines=lines)
    now = posting_moment(at)

    meter = MeterSale.objects.filter(transaction=sale).first()
    if meter is not None:
        latest = (
            MeterSale.objects.filter(
                transaction__customer=customer, transaction__status=TransactionStatus.POSTED
            )
            .select_related("transaction")
            .order_by("-transaction_id")[0]  # there is one: this sale's
        )
        if latest.pk != meter.pk:
            raise ValidationError(
                f"{sale.number} cannot be voided: {latest.transaction.number} recorded a "
                f"later meter reading ({latest.latest_reading}) for customer "
                f"{customer.code}. Void that sale first.",
                code="later_meter_reading",
            )
        if customer.last_meter_reading != meter.latest_reading:
            raise ValidationError(
                f"{sale.number} cannot be voided: customer {customer.code}'s meter reading "
                f"is {customer.last_meter_reading}, not this sale's {meter.latest_reading}.",
                code="meter_reading_changed",
            )
        customer.last_meter_reading = meter.last_reading
        history_save(customer, at=now, update_fields=["last_meter_reading"])

    # The cylinders go back on the vehicle where it is now: the representative's current
    # home depot (they may have moved since the sale).
    rep = sale.sales_rep
    depot = sales_rep_home_depot(rep, allow_inactive=True)
    stocked = [line for line in lines if line.product.is_cylinder]  # services: no stock
    full = {line.pk: LevelKey(depot, line.product, StockState.FULL, rep) for line in stocked}
    empty = {
        line.pk: LevelKey(depot, line.product, StockState.EMPTY, rep)
        for line in stocked
        if line.empties_returned
    }
    levels = levels_lock([*full.values(), *empty.values()])
    for line in stocked:
        if line.pk in empty:
            availability_check(levels[empty[line.pk]], empty[line.pk], line.empties_returned)
    moves = []
    for line in stocked:
        moves.append(
            Move(
                kind=MovementKind.VOID,
                product=line.product,
                state=StockState.FULL,
                quantity=line.quantity,
                to_level=levels[full[line.pk]],
            )
        )
        if line.empties_returned:
            moves.append(
                Move(
                    kind=MovementKind.VOID,
                    product=line.product,
                    state=StockState.EMPTY,
                    quantity=line.empties_returned,
                    from_level=levels[empty[line.pk]],
                )
            )
    movements_post(
        moves,
        actor=actor,
        depot=depot,
        sales_rep=rep,
        document=sale,
        reference=sale.number,
        note=reason[:255],
        at=now,
    )

    holdings_post(
        holding_changes,
        customer=customer,
        kind=HoldingKind.VOID,
        actor=actor,
        at=now,
        document=sale,
        reference=sale.number,
        sales_rep=rep,
        note=reason,
    )

    released = Decimal("0")
    if sale.payment_type == PaymentType.CREDIT and sale.amount_paid > 0:
        released = _release_allocations(sale, at=now)
    sale.status = TransactionStatus.VOID
    sale.void_reason = reason[:255]
    sale.voided_by = actor
    sale.voided_at = now
    history_save(
        sale,
        at=now,
        update_fields=["status", "void_reason", "voided_by", "voided_at", "amount_paid", "is_paid"],
    )
    if released or sale.payment_type == PaymentType.CREDIT:
        # The released money, and any deposit refund the void credited to the account or
        # took back from it, settle (or release) the oldest unpaid sales.
        settle(customer, at=now)
    # The counter late (lock order), then the audit chain head.
    credit_note = CreditNote.objects.create(
        number=document_number_next(series="CN", at=now),
        transaction=sale,
        amount=sale.total_amount,
        reason=reason[:255],
        created_by=actor,
        created_at=now,
    )
    audit_record(
        actor=actor,
        action="sale_void",
        obj=sale,
        depot=sale.depot,
        at=now,
        data={
            "number": sale.number,
            "credit_note": credit_note.number,
            "amount": str(sale.total_amount),
            "reason": reason,
            "released": str(released),
            "deposit": str(sale.deposit_amount),
            "deposit_refund": str(sale.deposit_refund),
            "meter_restored_to": str(meter.last_reading) if meter else None,
        },
    )
    document_email(kind=OutboxKind.CREDIT_NOTE, document=credit_note, customer=customer, at=now)
    return sale


def _release_allocations(sale: Transaction, *, at: datetime) -> Decimal:
    """Give a voided credit sale's money back where it came from, as negative rows: to
    its payments, and (payment None) to the deposit credit on the account."""
    per_payment = (
        PaymentAllocation.objects.filter(transaction=sale)
        .values("payment")
        .annotate(total=Sum("amount"))
        .order_by("payment")
    )
    released = Decimal("0")
    reversals = []
    for row in per_payment:
        if row["total"] <= 0:
            continue
        reversals.append(
            PaymentAllocation(
                payment_id=row["payment"], transaction=sale, amount=-row["total"], created_at=at
            )
        )
        if row["payment"] is not None:
            payment = Payment.objects.get(pk=row["payment"])
            payment.allocated -= row["total"]
            history_save(payment, at=at, update_fields=["allocated"])
        released += row["total"]
    PaymentAllocation.objects.bulk_create(reversals)
    sale.amount_paid = Decimal("0")
    sale.is_paid = False
    return released
