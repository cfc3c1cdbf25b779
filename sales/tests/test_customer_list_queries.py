"""The customer list (field API and admin changelist) costs the same queries for 1 or 30
customers, and shows the same balance and rates as the one-customer selectors."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from sales.models import Customer
from sales.selectors import customer_balance, customers_with_account, listed_rates, rate_in_force
from sales.services import payment_record, rate_set, sale_post

pytestmark = pytest.mark.django_db

# the active products, the page's count, the page (balance and rates in it), and the
# cylinders held of the page's customers (one prefetch)
API_QUERIES = 4
# session, user, two permission reads, the depot filter's choices, count, page, and the
# savepoint pair of reversion's changelist
ADMIN_QUERIES = 9


@pytest.fixture
def many(customer_factory, products, head_office):
    """make(n): n customers in all, each with three rates (two for some, one withdrawn)."""

    def make(n):
        while Customer.objects.count() < n:
            customer = customer_factory("CREDIT", credit_limit=Decimal("50000.00"))
            if customer.pk % 3 == 0:
                rate_set(customer=customer, product=products["9KG"], rate="2250", actor=head_office)
                payment_record(customer=customer, amount="100.00", actor=head_office)

    return make


def api_queries(user):
    client = APIClient()
    client.force_authenticate(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/customers/?limit=200")
    assert response.status_code == 200
    return len(queries), response.data["results"]


@pytest.mark.parametrize("n", [1, 10, 30])
def test_the_api_customer_list_costs_constant_queries(many, head_office, n):
    many(n)
    count, results = api_queries(head_office)
    assert len(results) == n
    assert count == API_QUERIES


@pytest.mark.parametrize("n", [1, 10, 30])
def test_a_representatives_customer_list_costs_constant_queries(many, sales_rep, n):
    many(n)
    count, results = api_queries(sales_rep)
    assert len(results) == n
    assert count == API_QUERIES  # their depots are a subquery of the page's


@pytest.mark.parametrize("n", [1, 10, 30])
def test_the_admin_changelist_costs_constant_queries(client, many, head_office, n):
    many(n)
    client.force_login(head_office)
    client.get("/admin/sales/customer/")  # warm the per-process caches (content types)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/sales/customer/")
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == n
    assert len(queries) == ADMIN_QUERIES, [q["sql"] for q in queries]


def test_the_list_agrees_with_the_one_customer_selectors(
    customer_factory, products, head_office, loaded_vehicle
):
    owing = customer_factory("CREDIT", credit_limit=Decimal("50000.00"))
    ahead = customer_factory("CREDIT", rates={"12.7KG": "3000.00"})
    cash = customer_factory("CASH")
    sale_post(
        customer=owing,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 2}],
    )
    sale_post(
        customer=cash,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 1}],
    )
    payment_record(customer=owing, amount="1000.50", actor=head_office)
    payment_record(customer=ahead, amount="700.00", actor=head_office)
    rate_set(customer=owing, product=products["9KG"], rate="2300", actor=head_office)
    rate_set(customer=ahead, product=products["9KG"], rate=None, actor=head_office)

    listed = {
        c.code: c
        for c in customers_with_account(Customer.objects.all(), products=products.values())
    }
    for customer in (owing, ahead, cash):
        row = listed[customer.code]
        assert row.balance_value == customer_balance(customer=customer)
        for product in products.values():
            try:
                expected = rate_in_force(customer=customer, product=product)
            except Exception:  # no rate, or a withdrawn one
                expected = None
            assert listed_rates(row, products.values()).get(product.code) == expected, (
                customer,
                product,
            )
    assert listed[owing.code].balance_value == Decimal("4999.50")
    assert listed[ahead.code].balance_value == Decimal("-700.00")
    assert listed[cash.code].balance_value == Decimal("0.00")

    response = APIClient()
    response.force_authenticate(head_office)
    data = {c["code"]: c for c in response.get("/api/customers/").data["results"]}
    assert data[owing.code]["balance"] == "4999.50"
    assert data[owing.code]["rates"] == {
        "12.7KG": "3000.00",
        "9KG": "2300.00",
        "BULK": "250.00",
    }
    assert data[ahead.code]["rates"] == {"12.7KG": "3000.00"}
    assert data[ahead.code]["balance"] == "-700.00"


def test_the_customer_page_reads_its_rates_in_one_query_whatever_the_products(
    client, head_office, credit_customer
):
    """The "Rates in force" panel: one query for every product's version, not one each."""
    from stock.models import Product

    client.force_login(head_office)
    url = f"/admin/sales/customer/{credit_customer.pk}/change/"

    def queries_of_the_page():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        return len(queries), response.content.decode()

    queries_of_the_page()  # caches (content types, the session) warm
    before, _ = queries_of_the_page()
    for n in range(3):
        Product.objects.create(
            code=f"X{n}KG", name=f"Extra {n} kg", kind="CYLINDER", capacity_kg=Decimal("5")
        )
    after, page = queries_of_the_page()
    assert "X2KG" in page
    assert after == before
