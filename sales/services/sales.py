"""Posting and voiding sales."""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models

from core.db import atomic_with_retry
from core.history import historical_model
from core.idempotency import key_clean
from core.models import Depot, OutboxKind, OutboxMessage, User
from core.numbers import money_text
from core.scoping import actor_access_check
from core.services.final_writes import NUMBER, AuditSpec, FinalWrites, history_rows
from core.services.moments import history_save, occurred_moment, posting_moment
from sales.models import (
    Customer,
    HoldingEntry,
    HoldingKind,
    MeterSale,
    PaymentType,
    Transaction,
    TransactionLine,
)
from sales.selectors import customer_balance, rates_in_force
from sales.services.common import (
    MAX_AMOUNT,
    MAX_READING,
    customer_check,
    decimal_value,
    lock_customer,
    money,
    money_to_settle,
    settle,
)
from sales.services.delivery import document_email_message
from sales.services.holdings import holding_entry_rows, holdings_apply, sale_deposits
from sales.services.lines import MeterFields, SaleLine, meter_order_check, sale_lines_parse
from sales.services.sale_audit import sale_audit_data
from sales.services.sale_keys import occurred_request, sale_fingerprint, sale_replay
from sales.services.sale_keys import sale_keyed as _keyed  # looked up here: tests patch it
from sales.services.tax import sale_tax, tax_rate_lock
from stock.models import MovementKind, Product, ProductKind, StockMovement, StockState
from stock.services import (
    LevelKey,
    Move,
    availability_check,
    ledger_rows,
    levels_lock,
    levels_move,
    sales_rep_home_depot,
)


def _metered_product() -> Product:
    product = Product.objects.filter(kind=ProductKind.METERED, is_active=True).first()
    if product is None:
        refusal = ValidationError("No metered product is on sale.", code="no_metered_product")
        raise ValidationError({"meter_reading": refusal})
    return product


def sale_post(
    *,
    customer: Customer,
    sales_rep: User,
    actor: User,
    lines: Iterable[dict[str, Any]] = (),
    meter_reading: Decimal | int | str | None = None,
    idempotency_key: str | None = None,
    occurred_at: datetime | None = None,
    at: datetime | None = None,
) -> Transaction:
    """Post a sale: cylinders off the representative's vehicle (empties onto it), and/or
    bulk gas by meter reading; priced at the rates in force; paid now if the customer pays
    cash, else checked against the credit limit. A repeated idempotency_key (per actor)
    returns the sale it first posted, for good; the same key with another sale is refused
    (code idempotency_key_reused).

    `occurred_at`: when the sale happened (on a handheld, offline); None means when it is
    posted. It prices the sale (the rates, tax and deposits in force then) and is stored
    beside created_at; refused (naming occurred_at) when naive, in the future or older
    than SYNC_MAX_AGE_DAYS (core.services.moments.occurred_moment).

    `at`: the moment the sale is posted (its created_at, number's year, ledger, history
    and audit entry); None means now. Only the demo seed and tests pass it: the admin
    and the API never do."""
    key = key_clean(idempotency_key)
    parsed = sale_lines_parse(lines)
    reading = None
    if meter_reading not in (None, ""):
        reading = decimal_value(
            meter_reading, "meter_reading", minimum=Decimal("0"), maximum=MAX_READING
        )
    if not parsed and reading is None:
        raise ValidationError(
            {
                "lines": ValidationError(
                    "A sale needs at least one cylinder line or a meter reading.",
                    code="empty_sale",
                )
            }
        )
    occurred_part = occurred_request(occurred_at)  # a naive moment is refused here
    request = ""
    if key is not None:
        request = sale_fingerprint(customer, sales_rep, parsed, reading, occurred_part)
        existing = _keyed(actor, key)
        if existing is not None:
            return sale_replay(existing, customer, sales_rep, request)
    customer_check(customer)
    depot = sales_rep_home_depot(sales_rep, lock=False)  # again, locked, in _post
    actor_access_check(actor=actor, depot=depot, sales_rep=sales_rep)
    try:
        return _post(
            customer=customer,
            sales_rep=sales_rep,
            actor=actor,
            depot=depot,
            lines=parsed,
            reading=reading,
            key=key,
            request=request,
            occurred_at=occurred_at,
            at=at,
        )
    except IntegrityError:
        # Another request with the same key committed first (it could not have waited on
        # our customer lock if it was for another customer).
        existing = _keyed(actor, key) if key else None
        if existing:
            return sale_replay(existing, customer, sales_rep, request)
        raise


def _next_id(model: type[models.Model]) -> int:
    """The next value of a table's id: PostgreSQL's sequence; on SQLite (one writer at a
    time, the transaction holding the write lock) the AUTOINCREMENT counter's next."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s))", [table, model._meta.pk.column]
            )
            value: int = cursor.fetchone()[0]
            return value
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        taken = model._default_manager.aggregate(last=models.Max("pk"))["last"] or 0
        return max(row[0] if row else 0, taken) + 1


@atomic_with_retry
def _post(
    *,
    customer: Customer,
    sales_rep: User,
    actor: User,
    depot: Depot,
    lines: list[SaleLine],
    reading: Decimal | None,
    key: str | None,
    request: str,
    occurred_at: datetime | None,
    at: datetime | None,
) -> Transaction:
    customer = lock_customer(customer)
    if key is not None:
        existing = _keyed(actor, key)
        if existing is not None:  # a retry that waited for the first post's lock
            return sale_replay(existing, customer, sales_rep, request)
    # The representative next (the lock order): their depot cannot change until this
    # sale commits, and it is still the one checked above.
    sales_rep_home_depot(sales_rep, depot)
    if customer.depot_id != depot.pk:
        raise ValidationError(
            {
                "customer": ValidationError(
                    f"Customer {customer.code} belongs to depot {customer.depot.code}; "
                    f"{sales_rep.username} sells for depot {depot.code}.",
                    code="customer_other_depot",
                )
            }
        )
    # One moment for the stored created_at and the number's year (and the ledger, history
    # and audit entry); the rates, tax and deposits are those in force when it happened.
    tax_rate_lock()  # a tax rate change waits for this sale, or this sale for it
    now = posting_moment(at)
    occurred = occurred_moment(occurred_at, now=now)  # before anything is written
    bulk = _metered_product() if reading is not None else None
    rates = rates_in_force(
        customer=customer,
        products=[line.product for line in lines] + ([bulk] if bulk else []),
        at=occurred,
        fields={
            **{line.product.pk: f"lines[{index}].product" for index, line in enumerate(lines)},
            **({bulk.pk: "meter_reading"} if bulk else {}),
        },
    )
    priced = [(line, rates[line.product.pk]) for line in lines]
    meter: MeterFields | None = None
    if reading is not None and bulk is not None:
        last = customer.last_meter_reading
        if reading <= last:
            raise ValidationError(
                {
                    "meter_reading": ValidationError(
                        f"Meter reading {reading} must be above customer "
                        f"{customer.code}'s last reading {last}.",
                        code="meter_reading_not_higher",
                    )
                }
            )
        meter_order_check(customer, occurred=occurred)
        rate = rates[bulk.pk]
        quantity = reading - last
        meter = {
            "product": bulk,
            "last_reading": last,
            "latest_reading": reading,
            "quantity": quantity,
            "rate": rate,
            "subtotal": money(quantity * rate),
        }

    # Services (installation, a delivery charge) are priced and taxed, never stocked.
    stocked = [line for line in lines if line.product.is_cylinder]
    full = {line: LevelKey(depot, line.product, StockState.FULL, sales_rep) for line in stocked}
    empty = {
        line: LevelKey(depot, line.product, StockState.EMPTY, sales_rep)
        for line in stocked
        if line.empties_returned
    }
    levels = levels_lock([*full.values(), *empty.values()])
    for index, line in enumerate(lines):
        if line not in full:
            continue
        availability_check(
            levels[full[line]], full[line], line.quantity, field=f"lines[{index}].quantity"
        )
    # The customer's cylinders: deposits charged on those their holding grows by,
    # refunded on those it shrinks by (refused if they hold fewer than taken back).
    deposits = sale_deposits(customer=customer, lines=lines, at=occurred)

    subtotal = sum((money(line.quantity * rate) for line, rate in priced), Decimal("0"))
    subtotal += meter["subtotal"] if meter else Decimal("0")
    tax_rate, (net, tax, total) = sale_tax(subtotal=subtotal, at=occurred)
    total += deposits.charged  # deposits carry no tax
    if total > MAX_AMOUNT:
        problem = f"The sale's total {money_text(total)} is too large; check the figures."
        raise ValidationError(problem, code="amount_too_large")
    if customer.payment_type == PaymentType.CREDIT and customer.credit_limit is not None:
        # a refund on this sale is credited to the account at once
        owed = customer_balance(customer=customer) + total - deposits.refunded
        if owed > customer.credit_limit:
            raise ValidationError(
                {
                    "customer": ValidationError(
                        f"This sale ({money_text(total)}) would take customer "
                        f"{customer.code} to {money_text(owed)}, over the credit limit of "
                        f"{money_text(customer.credit_limit)}.",
                        code="credit_limit",
                    )
                }
            )

    moves = []
    for line in stocked:
        moves.append(
            Move(
                kind=MovementKind.SALE,
                product=line.product,
                state=StockState.FULL,
                quantity=line.quantity,
                from_level=levels[full[line]],
            )
        )
        if line.empties_returned:
            moves.append(
                Move(
                    kind=MovementKind.SALE,
                    product=line.product,
                    state=StockState.EMPTY,
                    quantity=line.empties_returned,
                    to_level=levels[empty[line]],
                )
            )
    levels_move(moves, actor=actor, at=now)  # before the number: see levels_move
    holding_ids = holdings_apply(deposits.changes, customer=customer, at=now)  # likewise

    cash = customer.payment_type == PaymentType.CASH
    sale = Transaction(
        customer=customer,
        sales_rep=sales_rep,
        depot=depot,
        payment_type=customer.payment_type,
        net_amount=net,
        tax_rate=tax_rate,
        tax_amount=tax,
        deposit_amount=deposits.charged,
        deposit_refund=deposits.refunded,
        total_amount=total,
        cylinders=sum(line.quantity for line in stocked),
        metered=meter["quantity"] if meter else Decimal("0"),
        amount_paid=total if cash else Decimal("0"),
        is_paid=cash or total == 0,
        idempotency_key=key,
        request_fingerprint=request,
        created_by=actor,
        created_at=now,
        occurred_at=occurred,
    )
    sale_lines = [
        TransactionLine(
            transaction=sale,
            product=line.product,
            quantity=line.quantity,
            empties_returned=line.empties_returned,
            rate=rate,
            subtotal=money(line.quantity * rate),
            deposit_rate=deposit.rate,
            deposit=deposit.deposit,
            deposit_refund=deposit.refund,
        )
        for (line, rate), deposit in zip(priced, deposits.lines, strict=True)
    ]
    # The rows that do not carry the number go in first: the lines and the meter sale
    # under the sale's id, drawn now (foreign keys are checked at commit). The rows that
    # carry it are built with final_writes.NUMBER in its place; the number, the audit
    # chain head and those rows are taken and written in the last round trip, so the two
    # rows every posting waits for are held for as little as possible.
    sale.pk = _next_id(Transaction)
    for row in sale_lines:
        row.transaction_id = sale.pk
    TransactionLine.objects.bulk_create(sale_lines)
    if meter:
        MeterSale.objects.create(transaction=sale, **meter)
        customer.last_meter_reading = meter["latest_reading"]
        history_save(customer, at=now, update_fields=["last_meter_reading"])
    sale.number = NUMBER
    final = FinalWrites(series="TX", at=now)
    final.add(Transaction, [sale])
    history = history_rows(Transaction, [sale], user=actor, date=now)
    final.add(historical_model(Transaction), history)
    final.add(
        StockMovement,
        ledger_rows(
            moves,
            actor=actor,
            depot=depot,
            sales_rep=sales_rep,
            document=sale,
            reference=NUMBER,
            at=now,
        ),
    )
    final.add(
        HoldingEntry,
        holding_entry_rows(
            deposits.changes,
            holding_ids,
            customer=customer,
            kind=HoldingKind.SALE,
            actor=actor,
            at=now,
            document=sale,
            reference=NUMBER,
            sales_rep=sales_rep,
        ),
    )
    message = document_email_message(
        kind=OutboxKind.INVOICE, document=sale, customer=customer, at=now
    )
    final.add(OutboxMessage, [message] if message else [])
    audit = AuditSpec(
        actor=actor,
        action="sale_post",
        obj=sale,
        depot=depot,
        data=sale_audit_data(
            sale=sale, priced=priced, meter=meter, deposits=deposits, key=key, occurred=occurred
        ),
    )
    # Money paid in advance, or this sale's own deposit refund (credited to the account),
    # settles the new sale at once; asked before the number, so that a credit sale with
    # nothing on account (the common case) settles nothing while the shared rows are held.
    settles = not cash and (deposits.refunded > 0 or money_to_settle(customer))
    final.write(audit, number_set=lambda number: setattr(sale, "number", number))
    if settles:
        settle(customer, at=now)
        sale.refresh_from_db(fields=["amount_paid", "is_paid"])
    return sale
