"""GET /api/me/day/?date=: the representative's documents of a day with their totals,
the cash they should hand in now, the vehicle's stock at the start and end of the day,
the customers they visited; sales.day_selectors.representative_day behind it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from sales.day_selectors import representative_day, vehicle_stock_at
from sales.services import (
    cashup_post,
    cylinder_return,
    deposit_set,
    payment_record,
    rate_set,
    sale_post,
    sale_void,
)
from stock.services import distribution_create, stock_receive

pytestmark = pytest.mark.django_db

D = Decimal


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def day(north, sales_rep, head_office, products, customer_factory):
    """Yesterday: 10 full 12.7KG loaded, 2 sold for cash. Today: 5 more loaded, a cash
    sale of 1 (voided), a cash sale of 1 with no empties back (deposit 400.00), a credit
    sale of 2, a cash payment of 1000.00 and a cheque, a return of 1 cylinder."""
    cyl = products["12.7KG"]
    yesterday = timezone.now() - timedelta(days=1)
    cash = customer_factory("CASH")
    credit = customer_factory("CREDIT")
    other = customer_factory("CASH", rates={"9KG": "2200.00"})
    rate_set(customer=other, product=cyl, rate="3000", actor=head_office,
             effective_from=yesterday - timedelta(hours=1))  # fmt: skip
    stock_receive(depot=north, product=cyl, quantity=100, actor=head_office, at=yesterday)
    distribution_create(sales_rep=sales_rep, depot=north, product=cyl, quantity=10,
                        kind="COLLECTION", actor=head_office, at=yesterday)  # fmt: skip
    sale_post(customer=other, sales_rep=sales_rep, actor=sales_rep, at=yesterday,
              lines=[{"product": cyl, "quantity": 2}])  # fmt: skip
    distribution_create(sales_rep=sales_rep, depot=north, product=cyl, quantity=5,
                        kind="COLLECTION", actor=head_office)  # fmt: skip
    deposit_set(product=cyl, amount="400", actor=head_office)

    def sell(customer, quantity, empties=None):
        line = {"product": cyl, "quantity": quantity}
        if empties is not None:
            line["empties_returned"] = empties
        return sale_post(customer=customer, sales_rep=sales_rep, actor=sales_rep, lines=[line])

    sale_void(transaction=sell(cash, 1), actor=head_office, reason="wrong customer")
    sell(cash, 1, empties=0)
    sell(credit, 2)
    payment_record(customer=credit, amount="1000", actor=sales_rep)
    payment_record(customer=credit, amount="250", actor=sales_rep, method="CHEQUE",
                   reference="CHQ 9")  # fmt: skip
    cylinder_return(customer=cash, sales_rep=sales_rep, actor=sales_rep,
                    lines=[{"product": cyl, "quantity": 1}])  # fmt: skip
    return {"cash": cash, "credit": credit, "other": other}


def test_the_day_lists_documents_totals_cash_vehicle_and_customers(day, sales_rep):
    response = client_for(sales_rep).get("/api/me/day/")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["date"] == timezone.localdate().isoformat()
    assert [s["status"] for s in data["sales"]] == ["VOID", "POSTED", "POSTED"]
    assert data["totals"] == {
        "sales": 2,
        "voided": 1,
        "cash_sales": "3400.00",
        "credit_sales": "6000.00",
        "payments": "1250.00",
        "cash_payments": "1000.00",
        "returns": 1,
        "refunds": "400.00",
        "distributions": 1,
    }
    assert [p["method"] for p in data["payments"]] == ["CASH", "CHEQUE"]
    assert data["returns"][0]["refund_to"] == "CASH"
    assert data["distributions"][0]["cylinders"] == 5
    # cash since the first document: yesterday's 6000 + today's 3400 + 1000 - 400 refunded
    assert data["cash"]["since"] is None
    assert data["cash"]["expected"] == "10000.00"
    # yesterday left 8 full and 2 empties; today +5 loaded, 3 sold (1 voided), 2 empties
    # back from the credit sale, 1 from the return
    assert data["vehicle_start"] == [
        {"product": "12.7KG", "state": "EMPTY", "quantity": 2},
        {"product": "12.7KG", "state": "FULL", "quantity": 8},
    ]
    assert data["vehicle_end"] == [
        {"product": "12.7KG", "state": "EMPTY", "quantity": 5},
        {"product": "12.7KG", "state": "FULL", "quantity": 10},
    ]
    assert [c["code"] for c in data["customers_visited"]] == [
        day["cash"].code,
        day["credit"].code,
    ]


def test_yesterday_shows_its_own_documents_and_stock(day, sales_rep):
    yesterday = timezone.localdate() - timedelta(days=1)
    data = client_for(sales_rep).get("/api/me/day/", {"date": yesterday.isoformat()}).json()
    assert [s["total"] for s in data["sales"]] == ["6000.00"]
    assert data["vehicle_start"] == []
    assert data["vehicle_end"] == [
        {"product": "12.7KG", "state": "EMPTY", "quantity": 2},
        {"product": "12.7KG", "state": "FULL", "quantity": 8},
    ]
    assert [c["code"] for c in data["customers_visited"]] == [day["other"].code]


def test_cash_expected_now_starts_after_the_last_cash_up(day, sales_rep):
    cashup = cashup_post(sales_rep=sales_rep, counted_cash="10000", actor=sales_rep)
    data = representative_day(sales_rep=sales_rep, day=timezone.localdate())
    assert data["cash"]["expected"] == 0
    assert data["cash"]["since"] == cashup.created_at


def test_vehicle_stock_before_anything_is_empty(day, sales_rep):
    assert vehicle_stock_at(sales_rep=sales_rep, at=timezone.now() - timedelta(days=3)) == []


@pytest.mark.parametrize(
    "value", ["2026-02-30", "2026-13-01", "yesterday", "01/12/2026", "", "1999-12-31", "9999-12-31"]
)
def test_a_bad_date_is_a_400_naming_date(sales_rep, value):
    response = client_for(sales_rep).get("/api/me/day/", {"date": value})
    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["fields"]) == ["date"]


def test_only_a_representative_has_a_day(manager):
    assert client_for(manager).get("/api/me/day/").status_code == 403
    assert APIClient().get("/api/me/day/").status_code == 401
