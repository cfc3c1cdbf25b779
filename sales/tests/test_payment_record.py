from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core.models import AuditLog
from sales.models import Payment
from sales.selectors import customer_balance
from sales.services import payment_record, sale_post

pytestmark = pytest.mark.django_db


def credit_sales(customer, rep, product, count):
    return [
        sale_post(
            customer=customer, sales_rep=rep, actor=rep, lines=[{"product": product, "quantity": 1}]
        )
        for _ in range(count)
    ]


def test_payment_settles_the_oldest_sales_first(credit_customer, loaded_vehicle, products, manager):
    a, b, c = credit_sales(credit_customer, loaded_vehicle, products["12.7KG"], 3)
    payment = payment_record(
        customer=credit_customer,
        amount="4500.00",
        actor=manager,
        method="CHEQUE",
        reference="CHQ 7781",
    )
    for sale in (a, b, c):
        sale.refresh_from_db()
    assert (a.is_paid, a.amount_paid) == (True, Decimal("3000.00"))
    assert (b.is_paid, b.amount_paid) == (False, Decimal("1500.00"))
    assert (c.is_paid, c.amount_paid) == (False, Decimal("0"))
    assert payment.allocated == Decimal("4500.00")
    assert customer_balance(customer=credit_customer) == Decimal("4500.00")
    entry = AuditLog.objects.get(action="payment_record")
    assert entry.data["settled"] == [
        {"sale": a.number, "amount": "3000.00"},
        {"sale": b.number, "amount": "1500.00"},
    ]


def test_advance_payment_settles_the_next_credit_sale(
    credit_customer, loaded_vehicle, products, manager
):
    payment_record(customer=credit_customer, amount="5000.00", actor=manager)
    (sale,) = credit_sales(credit_customer, loaded_vehicle, products["12.7KG"], 1)
    assert (sale.is_paid, sale.amount_paid) == (True, Decimal("3000.00"))
    assert customer_balance(customer=credit_customer) == Decimal("-2000.00")


@pytest.mark.parametrize(
    ("kwargs", "field", "text"),
    [
        ({"amount": "0"}, "amount", "above 0"),
        ({"amount": "-5"}, "amount", "above 0"),
        ({"amount": "1.001"}, "amount", "two decimal places"),
        ({"amount": "lots"}, "amount", "Enter an amount"),
        ({"method": "BITCOIN"}, "method", "got 'BITCOIN'"),
        ({"reference": "r" * 101}, "reference", "at most 100"),
    ],
)
def test_bad_payments_are_refused(credit_customer, manager, kwargs, field, text):
    with pytest.raises(ValidationError) as exc:
        payment_record(customer=credit_customer, actor=manager, **{"amount": "10", **kwargs})
    assert text in exc.value.message_dict[field][0]
    assert Payment.objects.count() == 0


def test_payment_numbers(credit_customer, manager):
    from django.utils import timezone

    year = timezone.localdate().year
    numbers = [
        payment_record(customer=credit_customer, amount="1", actor=manager).number for _ in range(2)
    ]
    assert numbers == [f"PAY-{year}-000001", f"PAY-{year}-000002"]


def test_cash_customers_pay_at_the_sale(
    cash_customer, credit_customer, loaded_vehicle, products, manager
):
    with pytest.raises(ValidationError, match="pays cash at each sale"):
        payment_record(customer=cash_customer, amount="100", actor=manager)
    # A customer moved from credit to cash still pays off the old credit sales.
    sale_post(
        customer=credit_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["9KG"], "quantity": 1}],
    )
    credit_customer.payment_type = "CASH"
    credit_customer.save()
    assert payment_record(
        customer=credit_customer, amount="2200", actor=manager
    ).allocated == Decimal("2200.00")
