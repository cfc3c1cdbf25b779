"""POST /api/distributions/ with several lines (a load sheet, an empty return) and with
the one-line body it always took; what the list and the response show."""

import pytest
from rest_framework.test import APIClient

from core.models import AuditLog
from stock.models import Distribution, DistributionLine
from stock.selectors import stock_on_hand
from stock.services import distribution_create, stock_adjust, stock_receive
from stock.tests.custody import written

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked(north, cyl, nine, head_office):
    stock_receive(depot=north, product=cyl, quantity=30, actor=head_office)
    stock_receive(depot=north, product=nine, quantity=10, actor=head_office)


def post(user, body, key=None):
    client = APIClient()
    client.force_authenticate(user)
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/api/distributions/", body, format="json", **headers)


def test_a_load_sheet_posts_every_line_on_one_document(sales_rep, cyl, nine, stocked):
    response = post(
        sales_rep,
        {
            "kind": "COLLECTION",
            "lines": [{"product": "12.7KG", "quantity": 8}, {"product": "9KG", "quantity": 3}],
        },
    )
    assert response.status_code == 201, response.data
    body = response.json()
    document = Distribution.objects.get()
    assert body["number"] == document.distribution_no
    assert body["lines"] == [
        {"product": "12.7KG", "quantity": 8},
        {"product": "9KG", "quantity": 3},
    ]
    assert (body["depot"], body["product"], body["quantity"]) == ("NORTH", None, 11)
    assert stock_on_hand(product=nine, sales_rep=sales_rep) == 3
    assert AuditLog.objects.filter(action="distribution_post").count() == 1


def test_the_one_line_body_still_posts_and_shows_its_line(sales_rep, cyl, stocked):
    response = post(
        sales_rep, {"depot": "NORTH", "product": "12.7KG", "quantity": 2, "kind": "COLLECTION"}
    )
    assert response.status_code == 201, response.data
    body = response.json()
    assert (body["product"], body["quantity"]) == ("12.7KG", 2)
    assert body["lines"] == [{"product": "12.7KG", "quantity": 2}]
    assert DistributionLine.objects.get().quantity == 2


def test_a_short_line_is_a_400_naming_the_line_and_nothing_is_posted(sales_rep, stocked):
    before = written()
    response = post(
        sales_rep,
        {
            "kind": "COLLECTION",
            "lines": [{"product": "12.7KG", "quantity": 8}, {"product": "9KG", "quantity": 11}],
        },
    )
    assert response.status_code == 400
    error = response.json()["error"]
    message = "Only 10 full 9KG cylinders at depot NORTH; 11 requested."
    assert error["code"] == "insufficient_stock"
    assert error["fields"] == {"lines[1].quantity": [message]}
    assert written() == before


def test_a_product_twice_is_a_400_on_the_second_line(sales_rep, stocked):
    line = {"product": "12.7KG", "quantity": 1}
    response = post(sales_rep, {"kind": "COLLECTION", "lines": [line, line]})
    error = response.json()["error"]
    assert (response.status_code, error["code"]) == (400, "duplicate_product")
    assert list(error["fields"]) == ["lines[1].product"]
    assert Distribution.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "COLLECTION"}, "product"),
        ({"kind": "COLLECTION", "lines": []}, "lines"),
        (
            {"kind": "COLLECTION", "lines": [{"product": "12.7KG", "quantity": 1.5}]},
            "lines[0].quantity",
        ),
        ({"kind": "COLLECTION", "lines": [{"product": "NONE", "quantity": 1}]}, "lines[0].product"),
        (
            {
                "kind": "COLLECTION",
                "product": "9KG",
                "lines": [{"product": "12.7KG", "quantity": 1}],
            },
            "product",
        ),
    ],
)
def test_bodies_that_cannot_be_read_are_400s_naming_the_field(sales_rep, stocked, body, field):
    response = post(sales_rep, body)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert Distribution.objects.count() == 0


def test_an_empty_return_of_several_products(north, sales_rep, cyl, nine, head_office):
    for product in (cyl, nine):
        stock_adjust(
            product=product,
            state="EMPTY",
            counted=4,
            reason="opening",
            actor=head_office,
            sales_rep=sales_rep,
        )
    response = post(
        sales_rep,
        {
            "kind": "EMPTY_RETURN",
            "lines": [{"product": "12.7KG", "quantity": 4}, {"product": "9KG", "quantity": 2}],
        },
    )
    assert response.status_code == 201, response.data
    assert stock_on_hand(product=nine, state="EMPTY", depot=north) == 2


def test_a_retry_with_the_key_replays_the_load_sheet(sales_rep, stocked):
    body = {
        "kind": "COLLECTION",
        "lines": [{"product": "12.7KG", "quantity": 2}, {"product": "9KG", "quantity": 1}],
    }
    first = post(sales_rep, body, key="sheet-1")
    again = post(sales_rep, body, key="sheet-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["number"] == first.json()["number"]
    assert Distribution.objects.count() == 1


def test_the_list_shows_each_documents_lines(north, sales_rep, cyl, head_office, stocked):
    distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=1,
        kind="COLLECTION",
        actor=head_office,
    )
    post(
        sales_rep,
        {
            "kind": "COLLECTION",
            "lines": [{"product": "12.7KG", "quantity": 2}, {"product": "9KG", "quantity": 1}],
        },
    )
    client = APIClient()
    client.force_authenticate(sales_rep)
    rows = client.get("/api/distributions/").json()["results"]
    assert [row["lines"] for row in rows] == [
        [{"product": "12.7KG", "quantity": 2}, {"product": "9KG", "quantity": 1}],
        [{"product": "12.7KG", "quantity": 1}],
    ]
