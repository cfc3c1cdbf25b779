from decimal import Decimal

import pytest


@pytest.fixture
def cash_customer(customer_factory):
    return customer_factory("CASH")


@pytest.fixture
def credit_customer(customer_factory):
    return customer_factory("CREDIT", credit_limit=Decimal("20000.00"))
