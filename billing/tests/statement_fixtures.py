"""A credit customer whose account is posted at chosen moments, for the statements'
tests: `ledger` posts sales, voids, payments and reversals back-dated (the services'
`at=`; a reversal, which takes no `at=`, under a stopped clock). Import by name:
pytest_plugins = ["billing.tests.statement_fixtures"]."""

from datetime import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.tests.posting_clock import RATE, clock, moment


class Ledger:
    """Posts one customer's documents; each method takes the moment it happened."""

    def __init__(self, customer, rep, boss, cylinder) -> None:
        self.customer, self.rep, self.boss, self.cylinder = customer, rep, boss, cylinder

    def sale(self, at: datetime, quantity: int = 1):
        from sales.services import sale_post

        return sale_post(
            customer=self.customer,
            sales_rep=self.rep,
            actor=self.boss,
            lines=[{"product": self.cylinder, "quantity": quantity}],
            at=at,
        )

    def void(self, sale, at: datetime):
        from sales.services import sale_void

        return sale_void(transaction=sale, actor=self.boss, reason="Wrong customer", at=at)

    def pay(self, amount: Decimal | str, at: datetime):
        from sales.services import payment_record

        return payment_record(
            customer=self.customer,
            amount=Decimal(amount),
            actor=self.boss,
            received_on=timezone.localdate(at),
            at=at,
        )

    def reverse(self, payment, at: datetime):
        from sales.services import payment_reverse

        with clock(at):
            return payment_reverse(payment=payment, actor=self.boss, reason="Cheque bounced")


@pytest.fixture
def account(north, head_office, products):
    """A credit customer of NORTH opened 400 days ago, 12.7KG at 3,000.00, no limit."""
    from sales.services import customer_create, rate_set

    opened = moment(400)
    customer = customer_create(
        code="S001",
        name="Harbour Hotel",
        depot=north,
        payment_type="CREDIT",
        address="12 Harbour Road\nColombo 01",
        email="accounts@harbour.example",
        actor=head_office,
        at=opened,
    )
    rate_set(customer=customer, product=products["12.7KG"], rate=RATE, actor=head_office, at=opened)
    return customer


@pytest.fixture
def ledger(account, loaded_vehicle, head_office, products):
    """The account's Ledger (its representative has 20 full 12.7KG on the vehicle)."""
    return Ledger(account, loaded_vehicle, head_office, products["12.7KG"])
