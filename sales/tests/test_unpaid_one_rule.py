"""What an unpaid credit sale is, written once (Transaction.objects.unpaid_credit): the
sales payments settle, the admin's "Unpaid credit sales" filter and the receivables all
read it."""

from decimal import Decimal

import pytest

from reporting.catalogue import get_report
from reporting.filters import parse_filters
from sales.models import Transaction
from sales.selectors import unpaid_transactions
from sales.services import payment_record, sale_post, sale_void

pytestmark = pytest.mark.django_db


def test_the_filter_the_selector_and_the_receivables_agree(
    client, credit_customer, loaded_vehicle, products, head_office
):
    sales = [
        sale_post(
            customer=credit_customer,
            sales_rep=loaded_vehicle,
            actor=head_office,
            lines=[{"product": products["12.7KG"], "quantity": 1}],
        )
        for _ in range(4)
    ]
    sale_void(transaction=sales[3], actor=head_office, reason="Entered twice")
    payment_record(customer=credit_customer, amount="4500.00", actor=head_office)  # 1.5 sales

    unpaid = set(Transaction.objects.unpaid_credit().values_list("number", flat=True))
    assert unpaid == {sales[1].number, sales[2].number}  # paid, part paid, unpaid, void
    assert {t.number for t in unpaid_transactions(customer=credit_customer)} == unpaid

    client.force_login(head_office)
    page = client.get("/admin/sales/transaction/", {"unpaid": "1"})
    assert {t.number for t in page.context["cl"].result_list} == unpaid

    report = get_report("receivables")
    (values,) = report.rows(parse_filters({}, head_office, options=report.options))
    row = dict(zip(report.keys, values, strict=True))
    due = sum(t.total_amount - t.amount_paid for t in Transaction.objects.unpaid_credit())
    assert row["total_due"] == due == Decimal("4500.00")
