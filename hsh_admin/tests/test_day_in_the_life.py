"""A representative's day, scripted end to end through the field API as a handheld sends
it: the morning load, a day of sales (a walk-in cash customer at list prices with a
service line, a credit customer at contract rates), payments and cylinder returns
captured offline and synced in one request (then synced again: nothing new), the evening
empty return and a vehicle count, the cash-up posted from the handheld and confirmed by
the manager. Afterwards check_stock, verify_audit and check_money are all clean."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from sales.models import CashUp, CylinderReturn, Payment, Transaction
from sales.services import cashup_confirm, deposit_set, rate_set
from stock.models import Product, StockLevel
from stock.selectors import stock_on_hand
from stock.services import product_create, stock_count_post, stock_receive

pytestmark = pytest.mark.django_db

D = Decimal
PASSWORD = "correct-horse-battery"  # the conftest users' password


def handheld(username: str) -> APIClient:
    """Signed in as the handheld does: a JWT from the username and password."""
    client = APIClient()
    answer = client.post(
        "/api/auth/token/", {"username": username, "password": PASSWORD}, format="json"
    )
    assert answer.status_code == 200, answer.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {answer.json()['access']}")
    return client


def ago(hours: float) -> str:
    return (timezone.now() - timedelta(hours=hours)).isoformat()


def checks_clean():
    for command in ("check_stock", "verify_audit", "check_money"):
        out = StringIO()
        try:
            call_command(command, stdout=out, stderr=out)
        except SystemExit:  # pragma: no cover - the failure's own message
            pytest.fail(f"{command} found differences:\n{out.getvalue()}")


@pytest.fixture
def business(north, head_office, customer_factory, products):
    """Depot NORTH with stock; 12.7KG at a list price of 3,100.00 and a deposit of
    400.00; an installation service at 1,500.00; a walk-in cash customer without any
    contract rate, and a credit customer with rates from last week."""
    cylinder = products["12.7KG"]
    Product.objects.filter(pk=cylinder.pk).update(list_price=D("3100.00"))
    install = product_create(
        code="INSTALL",
        name="Installation",
        kind="SERVICE",
        actor=head_office,
        list_price="1500.00",
    )
    deposit_set(
        product=cylinder,
        amount="400",
        actor=head_office,
        effective_from=timezone.now() - timedelta(days=2),
    )
    stock_receive(depot=north, product=cylinder, quantity=100, actor=head_office)
    # (the factory's default rates otherwise: a bulk rate only, none for cylinders)
    walk_in = customer_factory("CASH", rates={"BULK": "250.00"})
    credit = customer_factory("CREDIT", rates={"BULK": "250.00"})
    rate_set(
        customer=credit,
        product=cylinder,
        rate=D("3000.00"),
        actor=head_office,
        effective_from=timezone.now() - timedelta(days=7),
    )
    return {"cylinder": cylinder, "install": install, "walk_in": walk_in, "credit": credit}


def test_a_representatives_day(business, sales_rep, manager, north):
    walk_in, credit = business["walk_in"], business["credit"]
    rep = handheld(sales_rep.username)

    # Morning: the load sheet, posted while the handheld still has a signal.
    load = rep.post(
        "/api/distributions/",
        {
            "kind": "COLLECTION",
            "lines": [{"product": "12.7KG", "quantity": 20}],
            "occurred_at": ago(9),
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="load-1",
    )
    assert load.status_code == 201, load.content
    assert stock_on_hand(product=business["cylinder"], state="FULL", sales_rep=sales_rep) == 20

    # The day, offline: captured on the handheld, synced in one request at the end.
    day = [
        {  # a walk-in buys a cylinder (no empty: a new connection) and its installation
            "client_id": "d1-sale-1",
            "type": "sale",
            "occurred_at": ago(8),
            "customer": walk_in.code,
            "lines": [
                {"product": "12.7KG", "quantity": 1, "empties_returned": 0},
                {"product": "INSTALL", "quantity": 1},
            ],
        },
        {  # the credit customer takes three, two empties back
            "client_id": "d1-sale-2",
            "type": "sale",
            "occurred_at": ago(7),
            "customer": credit.code,
            "lines": [{"product": "12.7KG", "quantity": 3, "empties_returned": 2}],
        },
        {  # and pays part of their account in cash
            "client_id": "d1-pay-1",
            "type": "payment",
            "occurred_at": ago(6),
            "customer": credit.code,
            "amount": "2000.00",
            "method": "CASH",
        },
        {  # the walk-in gives up the connection: the cylinder back, the deposit in cash
            "client_id": "d1-ret-1",
            "type": "return",
            "occurred_at": ago(5),
            "customer": walk_in.code,
            "lines": [{"product": "12.7KG", "quantity": 1}],
        },
    ]
    synced = rep.post("/api/sync/", {"documents": day}, format="json")
    assert synced.status_code == 200, synced.content
    results = synced.json()["results"]
    assert [r["status"] for r in results] == ["posted"] * 4, results
    numbers = {r["client_id"]: r["number"] for r in results}

    again = rep.post("/api/sync/", {"documents": day}, format="json").json()["results"]
    assert [(r["status"], r["number"]) for r in again] == [
        ("replayed", numbers[d["client_id"]]) for d in day
    ]
    assert Transaction.objects.count() == 2
    assert Payment.objects.count() == 1

    cash_sale = Transaction.objects.get(number=numbers["d1-sale-1"])
    lines = {line.product.code: line for line in cash_sale.lines.all()}
    assert lines["12.7KG"].rate == D("3100.00")  # the list price: no contract rate
    assert (lines["INSTALL"].rate, lines["INSTALL"].deposit) == (D("1500.00"), D("0"))
    assert cash_sale.deposit_amount == D("400.00")
    assert cash_sale.occurred_at < cash_sale.created_at
    refund = CylinderReturn.objects.get(number=numbers["d1-ret-1"])
    assert (refund.refund_amount, refund.refund_to) == (D("400.00"), "CASH")

    # Evening: the empties back to the depot, then the vehicle counted by the manager.
    empties = stock_on_hand(product=business["cylinder"], state="EMPTY", sales_rep=sales_rep)
    assert empties == 3  # two with the credit sale, one returned
    back = rep.post(
        "/api/distributions/",
        {"kind": "EMPTY_RETURN", "lines": [{"product": "12.7KG", "quantity": empties}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="empties-1",
    )
    assert back.status_code == 201, back.content
    levels = StockLevel.objects.filter(sales_rep=sales_rep)
    count = stock_count_post(
        lines=[
            {"product": level.product, "state": level.state, "counted": level.quantity}
            for level in levels
        ],
        reason="End of day vehicle count",
        actor=manager,
        sales_rep=sales_rep,
    )
    assert count.number.startswith("CNT-")
    assert stock_on_hand(product=business["cylinder"], state="FULL", sales_rep=sales_rep) == 16

    # Cash-up: what the handheld shows, what the representative hands in.
    expected = cash_sale.total_amount + D("2000.00") - D("400.00")
    my_day = rep.get("/api/me/day/").json()
    assert D(str(my_day["cash"]["expected"])) == expected
    assert D(str(my_day["cash"]["cash_refunds"])) == D("400.00")
    assert {c["code"] for c in my_day["customers_visited"]} == {walk_in.code, credit.code}
    posted = rep.post(
        "/api/cashups/",
        {"counted_cash": str(expected)},
        format="json",
        HTTP_IDEMPOTENCY_KEY="cashup-1",
    )
    assert posted.status_code == 201, posted.content
    cashup = CashUp.objects.get(number=posted.json()["number"])
    assert (cashup.expected_cash, cashup.counted_cash, cashup.variance) == (
        expected,
        expected,
        D("0.00"),
    )
    cashup_confirm(cashup=cashup, actor=manager)
    cashup.refresh_from_db()
    assert (cashup.status, cashup.confirmed_by) == ("CONFIRMED", manager)

    checks_clean()
