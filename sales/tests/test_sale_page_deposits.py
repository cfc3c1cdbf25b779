"""Deposits on the admin's sale screens: the "Add sale" preview and the sale's page show,
per line, the deposit charged (cylinders x deposit per cylinder) or refunded, the sale's
deposits as their own untaxed line in the totals, and the deposit refunded with where it
went (credited to the account, or paid out in cash by the representative). A
deposit-exempt customer's sale mentions no deposit."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from sales.models import Transaction
from sales.services import deposit_set, sale_post, sale_void

pytestmark = pytest.mark.django_db

D = Decimal
HOST = {"HTTP_HOST": "127.0.0.1"}


@pytest.fixture
def deposits(head_office, products):
    deposit_set(product=products["12.7KG"], amount=D("2500.00"), actor=head_office)


@pytest.fixture
def credit_customer(customer_factory):
    return customer_factory("CREDIT", credit_limit=D("100000.00"))


def sell(rep, customer, product, quantity, empties):
    return sale_post(
        customer=customer,
        sales_rep=rep,
        actor=rep,
        lines=[{"product": product, "quantity": quantity, "empties_returned": empties}],
    )


def preview(client, user, customer, rep, product, quantity, empties):
    client.force_login(user)
    response = client.post(
        reverse("admin:sales_transaction_add"),
        {
            "customer": customer.pk,
            "sales_rep": rep.pk,
            f"qty_{product.pk}": quantity,
            f"empties_{product.pk}": empties,
            "_preview": "1",
        },
        **HOST,
    )
    assert response.status_code == 200
    assert response.context["stage"] == "confirm", response.context["form"].errors
    return response.context["preview_lines"]


def sale_page(client, user, sale):
    client.force_login(user)
    response = client.get(reverse("admin:sales_transaction_change", args=[sale.pk]), **HOST)
    assert response.status_code == 200
    return response.content.decode()


def lines_panel(html):
    """The page's "What was sold" table, its rows' cells as plain text."""
    panel = html.split('id="sale-lines-shown"', 1)[1].split('id="sale-allocations"', 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", panel, re.S)
    return [" | ".join(re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)) for row in rows]


def test_the_preview_shows_the_deposit_charged_and_what_the_customer_pays(
    client, head_office, credit_customer, loaded_vehicle, products, deposits
):
    cyl = products["12.7KG"]
    lines = preview(client, head_office, credit_customer, loaded_vehicle, cyl, 3, 1)
    assert "3 x 12.7KG at 3,000.00 = 9,000.00 (1 empties received)" in lines
    assert "Deposit on 12.7KG (not taxed): 2 cylinders x 2,500.00 = 5,000.00" in lines
    assert "Deposits (not taxed): 5,000.00" in lines
    assert "Total: 14,000.00" in lines
    assert "Credit sale: balance 0.00 -> 14,000.00 (limit 100,000.00)." in lines
    assert not any("refunded" in line for line in lines)
    assert not Transaction.objects.exists()  # the preview was rolled back


def test_the_sale_page_shows_the_deposit_per_line_and_in_the_totals(
    client, head_office, credit_customer, loaded_vehicle, products, deposits
):
    sale = sell(loaded_vehicle, credit_customer, products["12.7KG"], 3, 1)
    html = sale_page(client, head_office, sale)
    rows = lines_panel(html)
    assert "Deposit on 12.7KG (not taxed): 2 cylinders x 2,500.00 | 5,000.00" in rows
    totals = [row for row in rows if row.split(" | ")[0] in ("Net", "Deposits (not taxed)")]
    assert totals == ["Net | 9,000.00", "Deposits (not taxed) | 5,000.00"]
    assert "Total | 14,000.00" in rows
    assert not any("refunded" in row for row in rows)
    # The fields above the table: the deposit as money, no refund field.
    assert "Deposits (not taxed)" in html.split('id="sale-lines-shown"')[0]
    assert "Deposit refunded" not in html


def test_a_refund_credited_to_the_account_on_the_preview_and_the_page(
    client, head_office, credit_customer, loaded_vehicle, products, deposits
):
    cyl = products["12.7KG"]
    sell(loaded_vehicle, credit_customer, cyl, 3, 0)  # 9,000.00 + deposit 7,500.00
    lines = preview(client, head_office, credit_customer, loaded_vehicle, cyl, 1, 3)
    assert (
        "Deposit refunded on 12.7KG: 2 cylinders back, 5,000.00 credited to the account "
        "(not in the total)."
    ) in lines
    assert "Total: 3,000.00" in lines
    assert "Deposit refunded, credited to the account (not in the total): 5,000.00" in lines
    assert not any(line.startswith("Deposits (not taxed)") for line in lines)
    # 16,500.00 owed; + 3,000.00 for this sale - 5,000.00 refunded to the account
    assert "Credit sale: balance 16,500.00 -> 14,500.00 (limit 100,000.00)." in lines
    assert Transaction.objects.count() == 1

    sale = sell(loaded_vehicle, credit_customer, cyl, 1, 3)
    rows = lines_panel(sale_page(client, head_office, sale))
    assert (
        "Deposit refunded on 12.7KG: 2 cylinders back, 5,000.00 credited to the account "
        "(not in the total) | \u2013"
    ) in rows
    assert "Deposit refunded, credited to the account (not in the total) | 5,000.00" in rows
    assert "Total | 3,000.00" in rows
    assert not any(row.startswith("Deposits (not taxed)") for row in rows)


def test_a_cash_customer_s_refund_is_paid_out_in_cash_by_the_representative(
    client, manager, customer_factory, loaded_vehicle, products, deposits
):
    cash = customer_factory("CASH")
    cyl = products["12.7KG"]
    sell(loaded_vehicle, cash, cyl, 2, 0)
    lines = preview(client, manager, cash, loaded_vehicle, cyl, 1, 2)
    assert (
        "Deposit refunded on 12.7KG: 1 cylinder back, 2,500.00 paid out in cash by northrep "
        "(not in the total)."
    ) in lines
    assert "Deposit refunded, paid out in cash by northrep (not in the total): 2,500.00" in lines
    assert "Cash sale: paid now." in lines

    sale = sell(loaded_vehicle, cash, cyl, 1, 2)
    html = sale_page(client, manager, sale)
    assert (
        "Deposit refunded, paid out in cash by northrep (not in the total) | 2,500.00"
        in lines_panel(html)
    )
    # the field above the table says the same
    assert "2,500.00, paid out in cash by northrep (not in the total)" in html


def test_a_deposit_exempt_customer_s_sale_mentions_no_deposit(
    client, head_office, customer_factory, loaded_vehicle, products, deposits
):
    owner = customer_factory("CREDIT", credit_limit=D("100000.00"), deposit_exempt=True)
    cyl = products["12.7KG"]
    lines = preview(client, head_office, owner, loaded_vehicle, cyl, 2, 0)
    assert "Total: 6,000.00" in lines
    assert not any("eposit" in line for line in lines), lines

    sale = sell(loaded_vehicle, owner, cyl, 2, 0)
    assert (sale.deposit_amount, sale.deposit_refund) == (D("0"), D("0"))
    html = sale_page(client, head_office, sale)
    assert not any("eposit" in row for row in lines_panel(html))
    assert "Deposits (not taxed)" not in html
    assert "Deposit refunded" not in html


def test_a_voided_sale_with_deposits_still_shows_them(
    client, head_office, credit_customer, loaded_vehicle, products, deposits
):
    sale = sell(loaded_vehicle, credit_customer, products["12.7KG"], 2, 0)
    sale_void(transaction=sale, actor=head_office, reason="wrong customer")
    rows = lines_panel(sale_page(client, head_office, sale))
    assert "Deposits (not taxed) | 5,000.00" in rows
    assert "Due | 0.00" in rows
