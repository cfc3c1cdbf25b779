"""Documents to render in billing's tests: a credit sale with two cylinder lines and a
meter reading, taxed; a cash sale; a payment; a voided sale's credit note. Import the
fixtures by name into a test module."""

from decimal import Decimal

import pytest


@pytest.fixture
def taxed(head_office):
    from sales.services.tax import tax_rate_set

    tax_rate_set(rate=Decimal("18"), actor=head_office)


@pytest.fixture
def credit_customer(customer_factory):
    return customer_factory(
        "CREDIT",
        credit_limit=Decimal("100000.00"),
        address="12 Harbour Road\nColombo 01",
        last_meter_reading=Decimal("100.00"),
    )


@pytest.fixture
def credit_sale(taxed, loaded_vehicle, credit_customer, products):
    from sales.services import sale_post

    return sale_post(
        customer=credit_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[
            {"product": products["12.7KG"], "quantity": 2, "empties_returned": 2},
            {"product": products["9KG"], "quantity": 1, "empties_returned": 1},
        ],
        meter_reading=Decimal("120.50"),
    )


@pytest.fixture
def cash_sale(loaded_vehicle, customer_factory, products):
    from sales.services import sale_post

    return sale_post(
        customer=customer_factory("CASH"),
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 1}],
    )


@pytest.fixture
def payment(credit_sale, loaded_vehicle):
    from sales.services import payment_record

    return payment_record(
        customer=credit_sale.customer,
        amount=Decimal("20000.00"),
        actor=loaded_vehicle,
        method="CHEQUE",
        reference="CHQ 000123",
    )


@pytest.fixture
def credit_note(cash_sale, head_office):
    from sales.services import sale_void

    sale = sale_void(transaction=cash_sale, actor=head_office, reason="Wrong customer")
    return sale.credit_note
