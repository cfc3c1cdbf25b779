from decimal import Decimal

import pytest

from sales.models import Customer
from sales.services import rate_set
from stock.models import Product
from stock.services import distribution_create, stock_receive


@pytest.fixture
def products(db):
    return {p.code: p for p in Product.objects.all()}


@pytest.fixture
def customer_factory(north, head_office, products):
    counter = iter(range(1, 10_000))

    def make(payment_type="CASH", rates=None, depot=None, **extra):
        n = next(counter)
        customer = Customer.objects.create(
            code=f"C{n:03d}",
            name=f"Customer {n}",
            depot=depot or north,
            payment_type=payment_type,
            **extra,
        )
        for code, rate in (
            rates or {"12.7KG": "3000.00", "9KG": "2200.00", "BULK": "250.00"}
        ).items():
            rate_set(
                customer=customer, product=products[code], rate=Decimal(rate), actor=head_office
            )
        return customer

    return make


@pytest.fixture
def cash_customer(customer_factory):
    return customer_factory("CASH")


@pytest.fixture
def credit_customer(customer_factory):
    return customer_factory("CREDIT", credit_limit=Decimal("20000.00"))


@pytest.fixture
def loaded_vehicle(north, sales_rep, head_office, products):
    """The representative's vehicle with 20 full 12.7KG and 10 full 9KG cylinders."""
    for code, quantity in (("12.7KG", 20), ("9KG", 10)):
        stock_receive(depot=north, product=products[code], quantity=100, actor=head_office)
        distribution_create(
            sales_rep=sales_rep,
            depot=north,
            product=products[code],
            quantity=quantity,
            kind="COLLECTION",
            actor=head_office,
        )
    return sales_rep
