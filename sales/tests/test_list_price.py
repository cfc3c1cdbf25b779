"""List prices: what a customer without a contract rate pays, for any kind of product.
A contract rate in force wins; a withdrawn one falls back to the list price; neither is
the no_rate refusal, which says a list price would do too."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sales.models import Customer
from sales.selectors import rate_in_force, rates_in_force
from sales.services import rate_set, sale_post
from stock.models import Product
from stock.selectors import stock_on_hand
from stock.services import product_update

pytestmark = pytest.mark.django_db


def list_price(product, price, actor):
    return product_update(product=product, actor=actor, data={"list_price": price})


@pytest.fixture
def walk_in(north):
    return Customer.objects.create(code="W1", name="Walk-in", depot=north, payment_type="CASH")


def test_a_customer_without_a_rate_pays_the_list_price(walk_in, products, head_office):
    list_price(products["14KG"], "4390.00", head_office)
    assert rate_in_force(customer=walk_in, product=products["14KG"]) == Decimal("4390.00")


def test_the_contract_rate_wins_over_the_list_price(cash_customer, products, head_office):
    list_price(products["9KG"], "2850.00", head_office)
    assert rate_in_force(customer=cash_customer, product=products["9KG"]) == Decimal("2200.00")


def test_a_withdrawn_rate_falls_back_to_the_list_price(cash_customer, products, head_office):
    list_price(products["9KG"], "2850.00", head_office)
    rate_set(customer=cash_customer, product=products["9KG"], rate=None, actor=head_office)
    assert rate_in_force(customer=cash_customer, product=products["9KG"]) == Decimal("2850.00")


def test_a_list_price_of_zero_is_a_price(walk_in, products, head_office):
    list_price(products["14KG"], "0", head_office)
    assert rate_in_force(customer=walk_in, product=products["14KG"]) == Decimal("0.00")


def test_neither_rate_nor_list_price_is_refused_naming_both(walk_in, products):
    with pytest.raises(ValidationError) as exc:
        rates_in_force(
            customer=walk_in, products=[products["14KG"]], fields={products["14KG"].pk: "x"}
        )
    (error,) = exc.value.error_dict["x"]
    assert error.code == "no_rate"
    assert error.message == (
        "No rate for 14KG is in force for customer W1 (Walk-in), and 14KG has no list "
        "price; set a rate or a list price before selling."
    )


def test_the_list_price_is_read_as_it_is_now_not_from_the_instance(walk_in, products, head_office):
    stale = Product.objects.get(code="14KG")
    list_price(products["14KG"], "4000.00", head_office)
    assert stale.list_price is None
    assert rate_in_force(customer=walk_in, product=stale) == Decimal("4000.00")


def test_several_products_take_two_queries_at_most(cash_customer, products, head_office):
    for code in ("14KG", "50KG-POL", "50KG-L"):
        list_price(products[code], "100.00", head_office)
    wanted = [products[c] for c in ("12.7KG", "9KG", "14KG", "50KG-POL", "50KG-L")]
    with CaptureQueriesContext(connection) as queries:
        rates = rates_in_force(customer=cash_customer, products=wanted)
    assert len(queries) == 2
    assert [rates[p.pk] for p in wanted] == [
        Decimal("3000.00"),
        Decimal("2200.00"),
        Decimal("100.00"),
        Decimal("100.00"),
        Decimal("100.00"),
    ]
    with CaptureQueriesContext(connection) as queries:
        rates_in_force(customer=cash_customer, products=wanted[:2])
    assert len(queries) == 1  # all under contract: no list price is read


def test_a_walk_in_cash_customer_buys_a_cylinder_at_the_list_price(
    walk_in, loaded_vehicle, products, head_office
):
    list_price(products["12.7KG"], "3980.00", head_office)
    sale = sale_post(
        customer=walk_in,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 1, "empties_returned": 1}],
    )
    (line,) = sale.lines.all()
    assert (line.rate, line.subtotal) == (Decimal("3980.00"), Decimal("3980.00"))
    assert (sale.total_amount, sale.is_paid) == (Decimal("3980.00"), True)
    assert stock_on_hand(product=products["12.7KG"], sales_rep=loaded_vehicle) == 19


def test_the_rate_stored_on_the_line_stays_when_the_list_price_changes(
    walk_in, loaded_vehicle, products, head_office
):
    list_price(products["9KG"], "2850.00", head_office)
    sale = sale_post(
        customer=walk_in,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["9KG"], "quantity": 2, "empties_returned": 2}],
    )
    list_price(products["9KG"], "3000.00", head_office)
    (line,) = sale.lines.all()
    assert line.rate == Decimal("2850.00")


def test_a_contract_rate_from_next_week_leaves_the_list_price_in_force_today(
    walk_in, products, head_office
):
    list_price(products["9KG"], "2850.00", head_office)
    rate_set(
        customer=walk_in,
        product=products["9KG"],
        rate="2500",
        actor=head_office,
        effective_from=timezone.localdate() + timedelta(days=7),
    )
    assert rate_in_force(customer=walk_in, product=products["9KG"]) == Decimal("2850.00")


def test_a_bulk_sale_by_meter_pays_the_list_price(walk_in, loaded_vehicle, products, head_office):
    list_price(products["BULK"], "285.00", head_office)
    sale = sale_post(
        customer=walk_in, sales_rep=loaded_vehicle, actor=loaded_vehicle, meter_reading="10"
    )
    assert sale.meter_sale.rate == Decimal("285.00")
    assert sale.total_amount == Decimal("2850.00")


def test_the_customer_list_prices_a_product_without_a_rate_at_its_list_price(
    walk_in, cash_customer, products, head_office
):
    from rest_framework.test import APIClient

    list_price(products["14KG"], "4390.00", head_office)
    list_price(products["9KG"], "2850.00", head_office)
    api = APIClient()
    api.force_authenticate(head_office)
    data = {c["code"]: c for c in api.get("/api/customers/").data["results"]}
    assert data["W1"]["rates"] == {"9KG": "2850.00", "14KG": "4390.00"}
    assert data[cash_customer.code]["rates"] == {
        "12.7KG": "3000.00",
        "9KG": "2200.00",  # the contract rate wins
        "14KG": "4390.00",
        "BULK": "250.00",
    }


def test_a_handheld_sells_a_service_line_without_empties(
    walk_in, loaded_vehicle, products, head_office
):
    from rest_framework.test import APIClient

    from stock.models import ProductKind
    from stock.services import product_create

    product_create(
        code="INSTALL",
        name="Installation",
        kind=ProductKind.SERVICE,
        actor=head_office,
        list_price="1500",
    )
    list_price(products["12.7KG"], "3980.00", head_office)
    api = APIClient()
    api.force_authenticate(loaded_vehicle)
    response = api.post(
        "/api/sales/",
        {
            "customer": "W1",
            "lines": [
                {"product": "12.7KG", "quantity": 1, "empties_returned": 1},
                {"product": "INSTALL", "quantity": 1},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.content[:300]
    assert response.data["total_amount"] == "5480.00"
    refused = api.post(
        "/api/sales/",
        {"customer": "W1", "lines": [{"product": "INSTALL", "quantity": 1, "empties_returned": 1}]},
        format="json",
    )
    assert refused.status_code == 400
    assert refused.data["error"]["code"] == "service_no_empties"
    assert list(refused.data["error"]["fields"]) == ["lines"]
