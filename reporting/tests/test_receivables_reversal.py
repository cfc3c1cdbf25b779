"""Receivables after a payment reversal: a reversed payment is no money on account."""

from decimal import Decimal

import pytest

from reporting.catalogue import get_report
from reporting.filters import parse_filters
from sales.models import Customer
from sales.services import payment_record, payment_reverse, rate_set, sale_post
from stock.models import Product
from stock.services import distribution_create, stock_receive

pytestmark = pytest.mark.django_db


def test_a_reversed_payment_is_not_paid_in_advance(north, head_office, sales_rep):
    cyl = Product.objects.get(code="12.7KG")
    stock_receive(depot=north, product=cyl, quantity=10, actor=head_office)
    distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=5,
        kind="COLLECTION",
        actor=head_office,
    )
    customer = Customer.objects.create(code="C1", name="Hotel", depot=north, payment_type="CREDIT")
    rate_set(customer=customer, product=cyl, rate=Decimal("3000"), actor=head_office)
    sale_post(
        customer=customer,
        sales_rep=sales_rep,
        actor=sales_rep,
        lines=[{"product": cyl, "quantity": 1}],
    )
    payment = payment_record(customer=customer, amount="1000.00", actor=head_office)
    payment_reverse(payment=payment, actor=head_office, reason="Cheque returned unpaid")

    report = get_report("receivables")
    rows = list(report.rows(parse_filters({}, head_office, options=report.options)))
    row = dict(zip(report.keys, rows[0], strict=True))
    assert (row["total_due"], row["on_account"]) == (Decimal("3000.00"), Decimal("0"))
