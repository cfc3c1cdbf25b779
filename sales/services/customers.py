"""Writes for customers: open an account, change its details and terms (payment type,
credit limit), move it to another depot, close it. Each leaves an audit entry with the
fields it changed, old and new: a credit limit raised is on the record with who raised it.
"""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from core.db import atomic_with_retry
from core.models import Depot, User
from core.numbers import money_text
from core.services import (
    audit_record,
    changes_apply,
    depot_open_check,
    head_office_check,
    instance_clean,
    values_readable,
)
from core.services.moments import history_save, posting_moment
from sales.models import Customer, PaymentType
from sales.selectors import customer_balance
from sales.services.common import MAX_READING, decimal_value, lock_customer

# What customer_update may change. The code is the account number on documents and in
# the API; the meter moves only with meter sales and their voids.
CUSTOMER_EDITABLE = (
    "name",
    "address",
    "phone",
    "email",
    "email_invoices",
    "depot",
    "payment_type",
    "credit_limit",
    "deposit_exempt",
    "is_active",
)
CUSTOMER_FIELDS = ("code", *CUSTOMER_EDITABLE, "last_meter_reading")
CLOSED_HINT = ": choose an open depot."


@atomic_with_retry
def customer_create(
    *,
    code: str,
    name: str,
    depot: Depot,
    actor: User,
    payment_type: str = PaymentType.CASH,
    credit_limit: Decimal | str | None = None,
    address: str = "",
    phone: str = "",
    email: str = "",
    email_invoices: bool = True,
    deposit_exempt: bool = False,
    is_active: bool = True,
    last_meter_reading: Decimal | str = Decimal("0"),
    at: datetime | None = None,
) -> Customer:
    """A new customer account at `depot` (open). `credit_limit` None: no limit;
    `last_meter_reading`: the bulk tank's meter when the account opens. `email`: where
    its documents go when `email_invoices` (an address that does not validate is refused,
    field "email", code "invalid"). `deposit_exempt`: the customer owns their cylinders,
    and is charged no deposit on them.

    `at`: the moment the account is opened (created_at, history, audit entry); None
    means now. Only the demo seed and tests pass it: the admin and the API never do."""
    head_office_check(actor=actor, what="Customers")
    depot_open_check(depot, hint=CLOSED_HINT)
    now = posting_moment(at)
    customer = Customer(
        code=code.strip(),
        name=name.strip(),
        depot=depot,
        payment_type=payment_type,
        credit_limit=_credit_limit(credit_limit),
        address=address,
        phone=phone,
        email=(email or "").strip(),
        email_invoices=email_invoices,
        deposit_exempt=bool(deposit_exempt),
        is_active=is_active,
        last_meter_reading=decimal_value(
            last_meter_reading, "last_meter_reading", minimum=Decimal("0"), maximum=MAX_READING
        ),
        created_at=now,
    )
    instance_clean(customer)
    history_save(customer, at=now)
    audit_record(
        actor=actor,
        action="customer_create",
        obj=customer,
        depot=depot,
        at=now,
        data={"customer": customer.code, "values": values_readable(customer, CUSTOMER_FIELDS)},
    )
    return customer


@atomic_with_retry
def customer_update(*, customer: Customer, actor: User, data: Mapping[str, Any]) -> Customer:
    """Change a customer (`data`: field -> new value, fields of CUSTOMER_EDITABLE).
    Nothing changed: nothing is written and the customer is returned as it is.

    The customer's row is locked first, as every sale and payment locks it: a credit
    limit lowered while a sale is checked against it waits for that sale, and the next
    sale sees the new limit.

    Customers, their terms (credit limit, payment type) and their depot are head
    office's (as the role permissions say): anyone else is refused (PermissionDenied)."""
    head_office_check(actor=actor, what="Customers")
    current = lock_customer(customer)
    data = dict(data)
    if "credit_limit" in data:
        data["credit_limit"] = _credit_limit(data["credit_limit"])
    if isinstance(data.get("email"), str):
        data["email"] = data["email"].strip()
    if "depot" in data and data["depot"] is not None and data["depot"].pk != current.depot_id:
        depot_open_check(data["depot"], hint=CLOSED_HINT)
    if data.get("payment_type", current.payment_type) != current.payment_type:
        _terms_change_check(current)
    changes = changes_apply(instance=current, data=data, editable=CUSTOMER_EDITABLE)
    if not changes:
        return current
    audit_record(
        actor=actor,
        action="customer_update",
        obj=current,
        depot=current.depot,
        data={"customer": current.code, "changes": changes},
    )
    return current


def _terms_change_check(customer: Customer) -> None:
    """Cash and credit terms change only on a settled account: deposit refunds go to the
    account of a credit customer and in cash to a cash customer, so a customer who owes
    (or is owed) money would otherwise be refunded in cash deposits still on an unpaid
    invoice, or owe back on the account what was handed over in cash."""
    balance = customer_balance(customer=customer)
    if balance:
        owes = "owes" if balance > 0 else "is owed"
        raise ValidationError(
            {
                "payment_type": ValidationError(
                    f"Customer {customer.code} {owes} {money_text(abs(balance))}: settle the "
                    "account before changing between cash and credit.",
                    code="account_not_settled",
                )
            }
        )


def _credit_limit(value: Decimal | str | None) -> Decimal | None:
    if value is None or value == "":
        return None
    return decimal_value(value, "credit_limit", minimum=Decimal("0"))
