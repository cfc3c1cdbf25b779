"""Money received from customers."""

from django.core.exceptions import ValidationError
from django.utils import timezone

from core.db import atomic_with_retry
from core.models import Role, User
from core.scoping import actor_access_check
from core.services import audit_record, document_number_next
from sales.models import Customer, Payment, PaymentMethod, PaymentType
from sales.selectors import customer_balance, unpaid_transactions
from sales.services.common import customer_check, decimal_value, lock_customer, settle


@atomic_with_retry
def payment_record(
    *, customer: Customer, amount, actor: User, method: str = "CASH", reference: str = ""
) -> Payment:
    """Record money received; it settles the customer's oldest unpaid credit sales first.
    Money beyond what is owed stays on account and settles the next credit sales."""
    amount = decimal_value(amount, "amount", minimum=0, above=True)
    if method not in PaymentMethod.values:
        raise ValidationError(
            {"method": f"Method must be one of {', '.join(PaymentMethod.values)}; got {method!r}."}
        )
    reference = (reference or "").strip()
    if len(reference) > 100:
        raise ValidationError({"reference": "Use at most 100 characters."})
    customer_check(customer)
    actor_access_check(
        actor=actor,
        depot=customer.depot,
        sales_rep=actor if actor.role == Role.SALES else None,
    )
    customer = lock_customer(customer)
    if (
        customer.payment_type == PaymentType.CASH
        and not unpaid_transactions(customer=customer).exists()
    ):
        raise ValidationError(
            {
                "customer": f"Customer {customer.code} pays cash at each sale and owes nothing; "
                "payments are recorded for credit customers."
            }
        )
    payment = Payment.objects.create(
        number=document_number_next(series="PAY", year=timezone.localdate().year),
        customer=customer,
        depot=customer.depot,
        amount=amount,
        method=method,
        reference=reference,
        received_by=actor,
    )
    allocations = settle(customer)
    audit_record(
        actor=actor,
        action="payment_record",
        obj=payment,
        depot=customer.depot,
        data={
            "number": payment.number,
            "customer": customer.code,
            "amount": str(amount),
            "method": method,
            "reference": reference,
            "settled": [
                {"sale": a.transaction.number, "amount": str(a.amount)}
                for a in allocations
                if a.payment_id == payment.pk
            ],
            "balance_after": str(customer_balance(customer=customer)),
        },
    )
    payment.refresh_from_db(fields=["allocated"])
    return payment
