"""Receivables list every customer whose account is not settled: what they owe, aged, or
what they have paid in advance, and each row's balance is customer_balance's."""

from decimal import Decimal

import pytest

from reporting.catalogue import get_report
from reporting.filters import parse_filters
from sales.models import Customer
from sales.selectors import customer_balance
from sales.services import payment_record, payment_reverse, rate_set, sale_post
from stock.models import Product
from stock.services import distribution_create, stock_receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts(north, head_office, sales_rep):
    """Credit customers in every state an account can be in (12.7KG at 3000, no tax)."""
    cyl = Product.objects.get(code="12.7KG")
    stock_receive(depot=north, product=cyl, quantity=50, actor=head_office)
    distribution_create(
        sales_rep=sales_rep, depot=north, product=cyl, quantity=30, kind="COLLECTION",
        actor=head_office,
    )  # fmt: skip

    def customer(code, payment_type="CREDIT"):
        made = Customer.objects.create(
            code=code,
            name=f"Customer {code}",
            depot=north,
            payment_type=payment_type,
            credit_limit=Decimal("1000000"),
        )
        rate_set(customer=made, product=cyl, rate=Decimal("3000"), actor=head_office)
        return made

    def sell(who, quantity):
        return sale_post(
            customer=who,
            sales_rep=sales_rep,
            actor=sales_rep,
            lines=[{"product": cyl, "quantity": quantity}],
        )

    def pay(who, amount):
        return payment_record(customer=who, amount=amount, actor=head_office)

    owing = customer("C001")  # owes 5000
    sell(owing, 2)
    pay(owing, "1000.00")

    in_credit = customer("C002")  # owed 3000, paid 10000: 7000 in advance
    sell(in_credit, 1)
    pay(in_credit, "10000.00")

    prepaid = customer("C003")  # no sale yet: 5000 in advance
    pay(prepaid, "5000.00")

    reversed_ = customer("C004")  # settled, then the cheque bounced: owes 3000 again
    sell(reversed_, 1)
    payment_reverse(payment=pay(reversed_, "3000.00"), actor=head_office, reason="Bounced")

    overpaid_reversed = customer("C005")  # paid 200000 on 9000; reversed: owes 9000 again
    sell(overpaid_reversed, 3)
    payment_reverse(payment=pay(overpaid_reversed, "200000.00"), actor=head_office, reason="Typo")

    settled = customer("C006")  # owes nothing, has nothing on account: not listed
    sell(settled, 1)
    pay(settled, "3000.00")

    now_cash = customer("C007")  # owes 3000 on credit, then moved to cash: still listed
    sell(now_cash, 1)
    Customer.objects.filter(pk=now_cash.pk).update(payment_type="CASH")

    customer("C008", payment_type="CASH")  # never on credit: not listed
    return {
        c.code: c
        for c in (owing, in_credit, prepaid, reversed_, overpaid_reversed, settled, now_cash)
    }


def receivables(user, **params):
    report = get_report("receivables")
    filters = parse_filters(params, user, options=report.options)
    rows = [dict(zip(report.keys, row, strict=True)) for row in report.rows(filters)]
    return {row["customer_code"]: row for row in rows}, report.totals(filters)


def test_every_open_account_is_listed_owing_or_in_credit(accounts, head_office):
    rows, totals = receivables(head_office)
    assert sorted(rows) == ["C001", "C002", "C003", "C004", "C005", "C007"]
    figures = {
        code: (row["days_0_30"], row["total_due"], row["on_account"], row["balance"])
        for code, row in rows.items()
    }
    assert figures == {
        "C001": (Decimal("5000"), Decimal("5000"), Decimal("0"), Decimal("5000")),
        "C002": (Decimal("0"), Decimal("0"), Decimal("7000"), Decimal("-7000")),
        "C003": (Decimal("0"), Decimal("0"), Decimal("5000"), Decimal("-5000")),
        "C004": (Decimal("3000"), Decimal("3000"), Decimal("0"), Decimal("3000")),
        "C005": (Decimal("9000"), Decimal("9000"), Decimal("0"), Decimal("9000")),
        "C007": (Decimal("3000"), Decimal("3000"), Decimal("0"), Decimal("3000")),
    }
    assert (totals["total_due"], totals["on_account"], totals["balance"]) == (
        Decimal("20000"),
        Decimal("12000"),
        Decimal("8000"),
    )


def test_each_rows_net_is_the_customers_balance(accounts, head_office):
    rows, _ = receivables(head_office)
    for code, customer in accounts.items():
        balance = customer_balance(customer=customer)
        if balance == 0:
            assert code not in rows
            continue
        row = rows[code]
        aged = row["days_0_30"] + row["days_31_60"] + row["days_61_90"] + row["days_over_90"]
        assert aged == row["total_due"]
        assert row["total_due"] - row["on_account"] == row["balance"] == balance, code


def test_a_customer_paying_more_than_they_owe_stays_on_the_report(accounts, head_office):
    """The probe's case: a customer owing 90,358.00 pays 200,000.00."""
    customer = accounts["C001"]
    payment_record(customer=customer, amount="195000.00", actor=head_office)
    rows, _ = receivables(head_office)
    row = rows["C001"]
    assert (row["total_due"], row["on_account"], row["balance"]) == (
        Decimal("0"),
        Decimal("190000"),
        Decimal("-190000"),
    )
    assert row["balance"] == customer_balance(customer=customer)


def test_the_customer_filter_shows_one_account(accounts, head_office):
    rows, _ = receivables(head_office, customer="C002")
    assert list(rows) == ["C002"]
    assert rows["C002"]["on_account"] == Decimal("7000")


def test_the_page_and_csv_show_money_paid_in_advance(client, accounts, head_office):
    import csv
    import io

    from django.urls import reverse

    client.force_login(head_office)
    url = reverse("reports:report", args=["receivables"])
    response = client.get(url, {"format": "csv", "customer": "C003"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["Customer"], r["Paid in advance"], r["Balance"]) for r in rows] == [
        ("C003", "5000.00", "-5000.00")
    ]
    page = client.get(url)
    assert "Paid in advance" in page.content.decode()
    assert [row[0]["text"] for row in page.context["rows"]] == [
        "C001", "C002", "C003", "C004", "C005", "C007"
    ]  # fmt: skip
