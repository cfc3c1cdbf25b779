"""Customers' cylinders: empties taken back without a sale (cylinder_return), and a count
of what a customer holds (cylinders_held_adjust). What a sale and a void do to holdings
is in sales.services.holdings; deposit rates in sales.services.deposits.

Lock order (docs/architecture.md): the customer first (their holdings change only under
that lock), then the representative, then stock levels, then the document counter and
the audit chain head."""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError

from core.db import atomic_with_retry
from core.idempotency import fingerprint, key_clean, replay
from core.models import Depot, OutboxKind, Role, User
from core.numbers import money_text
from core.scoping import actor_access_check
from core.services import audit_record, document_number_next
from core.services.moments import occurred_moment, posting_moment
from sales.models import (
    Customer,
    CylinderHolding,
    CylinderReturn,
    CylinderReturnLine,
    HoldingKind,
    RefundTo,
)
from sales.services.common import lock_customer, settle
from sales.services.delivery import document_email
from sales.services.holdings import (
    Held,
    HoldingChange,
    holding_entries_write,
    holdings_apply,
    holdings_read,
    more_than_held,
    refund_average,
    refund_to_for,
)
from sales.services.sale_keys import occurred_request
from stock.models import MovementKind, Product, StockState
from stock.services import (
    LevelKey,
    Move,
    cylinder_check,
    ledger_write,
    levels_lock,
    levels_move,
    sales_rep_home_depot,
    whole_number,
)


def _head_office_check(actor: User, what: str) -> None:
    if not (actor.is_superuser or actor.role == Role.ADMIN):
        raise PermissionDenied(f"{what} is set by head office.")


def _return_lines(lines: Iterable[object] | None) -> list[tuple[Product, int]]:
    """A return's lines, checked: (product, quantity), each named by its place."""
    parsed: list[tuple[Product, int]] = []
    for index, line in enumerate(lines or ()):
        where = f"lines[{index}]"
        if not isinstance(line, dict) or not isinstance(line.get("product"), Product):
            refusal = ValidationError("Name a product.", code="product_required")
            raise ValidationError({f"{where}.product": refusal})
        product = line["product"]
        if not product.is_cylinder:  # a closed product still comes back: no is_active check
            refusal = ValidationError(
                f"{product.code} is sold by meter reading; no cylinders of it are at a "
                "customer's site.",
                code="product_not_cylinder",
            )
            raise ValidationError({f"{where}.product": refusal})
        if any(seen.pk == product.pk for seen, _ in parsed):
            refusal = ValidationError(
                f"{product.code} appears twice; put it on one line.", code="duplicate_product"
            )
            raise ValidationError({f"{where}.product": refusal})
        quantity = whole_number(line.get("quantity"), f"{where}.quantity", minimum=1)
        parsed.append((product, quantity))
    if not parsed:
        refusal = ValidationError("A return needs at least one line.", code="empty_return")
        raise ValidationError({"lines": refusal})
    return parsed


def _return_keyed(actor: User, key: str) -> CylinderReturn | None:
    return CylinderReturn.objects.filter(created_by=actor, idempotency_key=key).first()


def _return_replay(existing: CylinderReturn, request: str) -> CylinderReturn:
    return replay(existing, request_fingerprint=request, what=f"cylinder return {existing.number}")


def cylinder_return(
    *,
    customer: Customer,
    sales_rep: User,
    lines: Iterable[dict[str, Any]],
    actor: User,
    idempotency_key: str | None = None,
    occurred_at: datetime | None = None,
    at: datetime | None = None,
) -> CylinderReturn:
    """Empties taken back from a customer without a sale (RET-YYYY-NNNNNN): onto the
    representative's vehicle (EMPTY), off the customer's holdings, each product's deposit
    refunded at the average the customer paid per cylinder held: credited to a credit
    customer's account, paid out in cash by the representative to a cash customer.
    A closed (inactive) customer's cylinders come back too: the deposit on cylinders
    that sat at a closed business is refunded like any other (sales stay refused).
    Refused whole when the customer holds fewer than a line takes back (more_than_held).
    lines: [{"product": Product, "quantity": int}]. A repeated idempotency_key (per
    actor) returns the return it first posted; the same key with another request is
    refused (idempotency_key_reused).

    `occurred_at`: when the cylinders were taken back (on a handheld, offline); None
    means when it is posted. Stored beside created_at; the refund is the average deposit
    held, whenever it happened. Refused (naming occurred_at) when naive, in the future or
    older than SYNC_MAX_AGE_DAYS.

    `at`: the moment the return is posted; None means now. Only the demo seed and tests
    pass it: the admin and the API never do."""
    key = key_clean(idempotency_key)
    parsed = _return_lines(lines)
    occurred_part = occurred_request(occurred_at)  # a naive moment is refused here
    request = ""
    if key is not None:
        request = fingerprint(
            customer=customer,
            sales_rep=sales_rep,
            lines=sorted((product.pk, quantity) for product, quantity in parsed),
            **occurred_part,
        )
        existing = _return_keyed(actor, key)
        if existing is not None:
            return _return_replay(existing, request)
    # No customer_check: a closed customer's cylinders still come back, with their deposit.
    depot = sales_rep_home_depot(sales_rep, lock=False)  # again, locked, in _return_post
    actor_access_check(actor=actor, depot=depot, sales_rep=sales_rep)
    try:
        return _return_post(
            customer=customer,
            sales_rep=sales_rep,
            actor=actor,
            depot=depot,
            lines=parsed,
            key=key,
            request=request,
            occurred_at=occurred_at,
            at=at,
        )
    except IntegrityError:
        # Another request with the same key committed first.
        existing = _return_keyed(actor, key) if key else None
        if existing:
            return _return_replay(existing, request)
        raise


@atomic_with_retry
def _return_post(
    *,
    customer: Customer,
    sales_rep: User,
    actor: User,
    depot: Depot,
    lines: list[tuple[Product, int]],
    key: str | None,
    request: str,
    occurred_at: datetime | None,
    at: datetime | None,
) -> CylinderReturn:
    customer = lock_customer(customer)
    if key is not None:
        existing = _return_keyed(actor, key)
        if existing is not None:  # a retry that waited for the first one's lock
            return _return_replay(existing, request)
    now = posting_moment(at)
    occurred = occurred_moment(occurred_at, now=now)  # before anything is written
    sales_rep_home_depot(sales_rep, depot)  # locked: their depot stays the one checked
    if customer.depot_id != depot.pk:
        raise ValidationError(
            {
                "customer": ValidationError(
                    f"Customer {customer.code} belongs to depot {customer.depot.code}; "
                    f"{sales_rep.username} collects for depot {depot.code}.",
                    code="customer_other_depot",
                )
            }
        )
    held = holdings_read(customer, [product for product, _ in lines])
    refund_to = refund_to_for(customer)
    refunds: list[Decimal] = []
    for index, (product, quantity) in enumerate(lines):
        holding = held.get(product.pk, Held())
        if quantity > holding.quantity:
            raise more_than_held(
                customer, product, holding.quantity, quantity, f"lines[{index}].quantity"
            )
        refunds.append(
            refund_average(
                quantity_held=holding.quantity, deposit_held=holding.deposit, returned=quantity
            )
        )
    changes = [
        HoldingChange(product, -quantity, -refund, refund_to if refund else RefundTo.NONE)
        for (product, quantity), refund in zip(lines, refunds, strict=True)
    ]
    total = sum(refunds, Decimal("0.00"))

    keys = {
        product.pk: LevelKey(depot, product, StockState.EMPTY, sales_rep) for product, _ in lines
    }
    levels = levels_lock(list(keys.values()))
    moves = [
        Move(
            kind=MovementKind.CUSTOMER_RETURN,
            product=product,
            state=StockState.EMPTY,
            quantity=quantity,
            to_level=levels[keys[product.pk]],
        )
        for product, quantity in lines
    ]
    levels_move(moves, actor=actor, at=now)  # before the number: see levels_move
    holding_ids = holdings_apply(changes, customer=customer, at=now)
    document = CylinderReturn.objects.create(  # the key's constraint: see cylinder_return
        number=document_number_next(series="RET", at=now),
        customer=customer,
        sales_rep=sales_rep,
        depot=depot,
        refund_amount=total,
        refund_to=refund_to if total else RefundTo.NONE,
        created_by=actor,
        created_at=now,
        occurred_at=occurred,
        idempotency_key=key,
        request_fingerprint=request,
    )
    CylinderReturnLine.objects.bulk_create(
        CylinderReturnLine(cylinder_return=document, product=product, quantity=quantity, refund=r)
        for (product, quantity), r in zip(lines, refunds, strict=True)
    )
    ledger_write(
        moves,
        actor=actor,
        depot=depot,
        sales_rep=sales_rep,
        document=document,
        reference=document.number,
        at=now,
    )
    holding_entries_write(
        changes,
        holding_ids,
        customer=customer,
        kind=HoldingKind.RETURN,
        actor=actor,
        at=now,
        document=document,
        reference=document.number,
        sales_rep=sales_rep,
    )
    # A refund credited to the account settles the oldest unpaid sales at once.
    settled = settle(customer, at=now) if document.refund_to == RefundTo.ACCOUNT else []
    audit_record(
        actor=actor,
        action="cylinder_return",
        obj=document,
        depot=depot,
        at=now,
        data={
            "number": document.number,
            "customer": customer.code,
            "sales_rep": sales_rep.username,
            "refund": str(total),
            "refund_to": document.refund_to,
            "occurred_at": occurred.isoformat(),
            "lines": [
                {"product": product.code, "quantity": quantity, "refund": str(refund)}
                for (product, quantity), refund in zip(lines, refunds, strict=True)
            ],
            "settled": [{"sale": a.transaction.number, "amount": str(a.amount)} for a in settled],
            "idempotency_key": key,
        },
    )
    document_email(kind=OutboxKind.RETURN, document=document, customer=customer, at=now)
    return document


@atomic_with_retry
def cylinders_held_adjust(
    *,
    customer: Customer,
    product: Product,
    counted: int,
    reason: str,
    actor: User,
    at: datetime | None = None,
) -> CylinderHolding:
    """Set how many cylinders of `product` the customer holds to `counted` (an opening
    count, or a count at their site): one ADJUSTMENT entry for the difference, with the
    reason. A count up adds cylinders with no deposit. A count down forfeits the average
    deposit on the missing cylinders (all of it when the count is 0): the company keeps
    it for the cylinders lost (refund_to "": no money moves), so it can never be refunded
    on other cylinders later. Head office only."""
    _head_office_check(actor, "A customer's count of cylinders held")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"reason": ValidationError("Say why the count is set.", code="required")}
        )
    cylinder_check(product, allow_inactive=True)
    counted = whole_number(counted, "counted", minimum=0)
    actor_access_check(actor=actor, depot=customer.depot)
    customer = lock_customer(customer)
    now = posting_moment(at)
    held = holdings_read(customer, [product]).get(product.pk, Held())
    missing = max(held.quantity - counted, 0)
    forfeited = refund_average(
        quantity_held=held.quantity, deposit_held=held.deposit, returned=missing
    )
    change = HoldingChange(product, counted - held.quantity, -forfeited)
    note = reason
    if forfeited:
        noun = "cylinder" if missing == 1 else "cylinders"
        note = (
            f"Deposit {money_text(forfeited)} on the {missing} missing {noun} forfeited "
            f"(kept for the cylinders lost). {reason}"
        )
    holding_ids = holdings_apply([change], customer=customer, at=now)
    holding_entries_write(
        [change],
        holding_ids,
        customer=customer,
        kind=HoldingKind.ADJUSTMENT,
        actor=actor,
        at=now,
        note=note,
    )
    holding = CylinderHolding.objects.get(pk=holding_ids[product.pk])
    audit_record(
        actor=actor,
        action="cylinders_held_adjust",
        obj=holding,
        depot=customer.depot,
        at=now,
        data={
            "customer": customer.code,
            "product": product.code,
            "before": held.quantity,
            "counted": counted,
            "deposit_forfeited": str(forfeited),
            "reason": reason,
        },
    )
    return holding
