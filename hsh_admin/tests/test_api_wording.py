"""What the field API says is for the person holding the handheld: a code that names
nothing says which kind of thing it looked for (without saying whether another depot's
customer exists), and a number too large to read is "too large", naming its field."""

import json
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from sales.models import Customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(field_day, south, sales_rep):
    field_day(received=25, collected=5, credit_limit=Decimal("1e6"), collector=sales_rep)
    Customer.objects.create(code="C9", name="Elsewhere", depot=south, payment_type="CASH")
    return sales_rep


def post(user, path, body):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    if isinstance(body, str):
        return client.post(path, body, content_type="application/json")
    return client.post(path, body, format="json")


def refusal(response):
    assert response.status_code == 400, response.content[:300]
    return response.json()["error"]


@pytest.mark.parametrize("code", ["C9", "C404"])
def test_a_customer_not_among_the_reps_reads_the_same_whether_it_exists_or_not(world, code):
    line = [{"product": "12.7KG", "quantity": 1}]
    for path, body in (
        ("/api/sales/", {"customer": code, "lines": line}),
        ("/api/payments/", {"customer": code, "amount": "10.00"}),
    ):
        error = refusal(post(world, path, body))
        assert error["fields"] == {"customer": [f"No customer {code} among yours."]}
        assert error["message"] == f"No customer {code} among yours."


def test_an_unknown_product_says_product(world):
    body = {"customer": "C1", "lines": [{"product": "20KG", "quantity": 1}]}
    error = refusal(post(world, "/api/sales/", body))
    assert error["fields"] == {"lines[0].product": ["No product 20KG."]}


def test_an_unknown_depot_says_depot(world):
    body = {"depot": "EAST", "product": "12.7KG", "kind": "COLLECTION", "quantity": 1}
    error = refusal(post(world, "/api/distributions/", body))
    assert error["fields"] == {"depot": ["No depot EAST."]}


def test_a_code_that_is_not_text_says_what_to_give(world):
    error = refusal(post(world, "/api/payments/", {"customer": 12, "amount": "10.00"}))
    assert error["fields"] == {"customer": ["Give the customer's code as text, such as C001."]}


HUGE = "9" * 5000


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/api/sales/",
            '{"customer": "C1", "lines": [{"product": "12.7KG", "quantity": %s}]}',
            "lines[0].quantity",
        ),
        ("/api/sales/", '{"customer": "C1", "meter_reading": %s}', "meter_reading"),
        ("/api/payments/", '{"customer": "C1", "amount": %s}', "amount"),
        (
            "/api/distributions/",
            '{"depot": "NORTH", "product": "12.7KG", "kind": "COLLECTION", "quantity": %s}',
            "quantity",
        ),
    ],
)
@pytest.mark.parametrize("as_text", [False, True])
def test_a_5000_digit_number_is_too_large_naming_its_field(world, path, body, field, as_text):
    number = json.dumps(HUGE) if as_text else HUGE
    error = refusal(post(world, path, body % number))
    assert list(error["fields"]) == [field]
    (message,) = error["fields"][field]
    assert "less than or equal to" in message or "too large" in message.lower()
    assert "sys." not in json.dumps(error)
    assert len(json.dumps(error)) < 500  # the number is not echoed back


def test_a_huge_number_where_text_is_expected_is_refused_plainly(world):
    error = refusal(post(world, "/api/payments/", '{"customer": ' + HUGE + ', "amount": "1"}'))
    assert list(error["fields"]) == ["customer"]
    assert "sys." not in json.dumps(error)
