"""What an attacker or a careless client sends gets the API's one error shape, never a
500 or Django's HTML page; service refusals name their field and a machine code."""

import json
from decimal import Decimal

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from rest_framework.test import APIClient

from sales.models import Transaction
from sales.services import rate_set, sale_post
from stock.models import Distribution, Product

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(field_day, head_office, sales_rep):
    """NORTH: the rep has 20 full 12.7KG on the vehicle; C1 (credit) buys at 3000."""
    cyl, customers = field_day(received=25, credit_limit=Decimal("10000"), collector=sales_rep)
    c1 = customers["C1"]
    return {"cyl": cyl, "c1": c1, "rep": sales_rep, "admin": head_office}


def api(user=None):
    client = APIClient(raise_request_exception=False)
    if user is not None:
        client.force_authenticate(user)
    return client


def error_of(response, status):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response.content[:300]
    body = json.loads(response.content)
    assert set(body) == {"error"}
    assert set(body["error"]) == {"status", "code", "message", "fields"}
    assert body["error"]["status"] == status
    return body["error"]


def sell(world, lines=None, **extra):
    body = {"customer": "C1", **extra}
    if lines is not None:
        body["lines"] = lines
    return api(world["rep"]).post("/api/sales/", body, format="json")


# --- Service refusals: field path and code, passed through untouched ------------------


def test_a_stock_shortage_names_the_line_and_says_insufficient_stock(world):
    response = sell(
        world,
        [
            {"product": "12.7KG", "quantity": 1},
            {"product": "9KG", "quantity": 2},
        ],
    )
    rate_message = error_of(response, 400)
    assert rate_message["code"] == "no_rate"  # C1 has no 9KG rate: checked first
    nine = Product.objects.get(code="9KG")
    rate_set(customer=world["c1"], product=nine, rate="2000", actor=world["admin"])

    response = sell(world, [{"product": "12.7KG", "quantity": 21}])
    rep = world["rep"]
    message = (
        f"Only 20 full 12.7KG cylinders on vehicle {rep.vehicle_no} ({rep.username}); 21 requested."
    )
    assert json.loads(response.content) == {
        "error": {
            "status": 400,
            "code": "insufficient_stock",
            "message": message,
            "fields": {"lines[0].quantity": [message]},
        }
    }
    second = sell(world, [{"product": "12.7KG", "quantity": 1}, {"product": "9KG", "quantity": 1}])
    error = error_of(second, 400)
    assert error["code"] == "insufficient_stock"
    assert list(error["fields"]) == ["lines[1].quantity"]
    assert Transaction.objects.count() == 0


def test_no_rate_names_the_line_or_the_meter(world):
    error = error_of(sell(world, [{"product": "9KG", "quantity": 1}]), 400)
    assert error["code"] == "no_rate"
    assert error["fields"] == {
        "lines[0].product": [
            "No rate for 9KG is in force for customer C1 (Customer C1), and 9KG has no list "
            "price; set a rate or a list price before selling."
        ]
    }
    error = error_of(sell(world, meter_reading="10"), 400)
    assert error["code"] == "no_rate"
    assert list(error["fields"]) == ["meter_reading"]


def test_the_credit_limit_names_the_customer(world):
    error = error_of(sell(world, [{"product": "12.7KG", "quantity": 4}]), 400)
    assert error["code"] == "credit_limit"
    assert error["fields"] == {
        "customer": [
            "This sale (12,000.00) would take customer C1 to 12,000.00, "
            "over the credit limit of 10,000.00."
        ]
    }
    assert error["message"] == error["fields"]["customer"][0]


def test_an_empty_sale_names_the_lines(world):
    error = error_of(sell(world), 400)
    assert error["code"] == "empty_sale"
    assert error["fields"] == {
        "lines": ["A sale needs at least one cylinder line or a meter reading."]
    }


def test_a_meter_reading_not_above_the_last_names_the_reading(world, head_office):
    bulk = Product.objects.get(code="BULK")
    rate_set(customer=world["c1"], product=bulk, rate="250", actor=head_office)
    sale_post(customer=world["c1"], sales_rep=world["rep"], actor=world["rep"], meter_reading="10")
    error = error_of(sell(world, meter_reading="10.00"), 400)
    assert error["code"] == "meter_reading_not_higher"
    assert error["fields"] == {
        "meter_reading": ["Meter reading 10.00 must be above customer C1's last reading 10.00."]
    }


def test_a_distribution_shortage_names_the_quantity(world):
    response = api(world["rep"]).post(
        "/api/distributions/",
        {"depot": "NORTH", "product": "12.7KG", "quantity": 6, "kind": "COLLECTION"},
        format="json",
    )
    error = error_of(response, 400)
    assert error["code"] == "insufficient_stock"
    assert error["fields"] == {
        "quantity": ["Only 5 full 12.7KG cylinders at depot NORTH; 6 requested."]
    }
    assert Distribution.objects.count() == 1


def test_serializer_refusals_keep_their_field_paths(world):
    error = error_of(sell(world, [{"product": "12.7KG", "quantity": 0}]), 400)
    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["lines[0].quantity"]


# --- Unknown URLs and bodies the API cannot take ---------------------------------------


@pytest.mark.parametrize("path", ["/api/nope/", "/api/sales/TX-1/nope/", "/api/v2/customers/"])
@pytest.mark.parametrize("authenticated", [False, True])
def test_an_unknown_url_under_api_is_a_json_404(world, path, authenticated):
    client = api(world["rep"] if authenticated else None)
    for method in ("get", "post", "delete"):
        error = error_of(getattr(client, method)(path), 404)
        assert error["code"] == "not_found"
        assert path in error["message"]


def test_outside_the_api_a_404_stays_a_page(client, world):
    response = client.get("/nope/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/api/sales/", "/api/payments/", "/api/auth/token/"])
def test_an_over_large_body_is_a_json_413(world, path):
    big = json.dumps({"customer": "C1", "reference": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    response = api(world["rep"]).post(path, big, content_type="application/json")
    error = error_of(response, 413)
    assert error["code"] == "request_too_large"
    assert "too large" in error["message"]
    assert Transaction.objects.count() == 0


@pytest.mark.parametrize(
    ("path", "authenticated"),
    [("/api/sales/", True), ("/api/payments/", True), ("/api/auth/token/", False)],
)
@pytest.mark.parametrize("body", ["[" * 100_000, '{"a":' * 50_000, "[" * 60 + "]" * 60])
def test_deeply_nested_json_is_a_400(world, path, authenticated, body):
    client = api(world["rep"] if authenticated else None)
    error = error_of(client.post(path, body, content_type="application/json"), 400)
    assert error["code"] == "parse_error"
    assert "nested" in error["message"]


def test_ordinary_nesting_still_parses(world):
    response = sell(world, [{"product": "12.7KG", "quantity": 1}])
    assert response.status_code == 201


# --- Usernames longer than any account's ---------------------------------------------


@pytest.mark.parametrize("username", ["u" * 256, "u" * 151, "north\x00rep"])
def test_an_impossible_username_at_the_token_endpoint_is_a_400(world, username):
    response = api().post(
        "/api/auth/token/", {"username": username, "password": "x"}, format="json"
    )
    error = error_of(response, 400)
    assert list(error["fields"]) == ["username"]
    assert not AccessAttempt.objects.exists()


@pytest.mark.parametrize("username", ["u" * 256, "u" * 151, "north\x00rep"])
def test_an_impossible_username_at_the_admin_login_is_a_400(client, world, username):
    client.raise_request_exception = False
    response = client.post("/admin/login/", {"username": username, "password": "x"})
    assert response.status_code == 400
    assert "username" in response.context["form"].errors
    assert not AccessAttempt.objects.exists()


def test_a_wrong_password_is_still_counted(client, world):
    response = client.post("/admin/login/", {"username": "northrep", "password": "wrong"})
    assert response.status_code == 200
    token = api().post("/api/auth/token/", {"username": "northrep", "password": "wrong"})
    assert token.status_code == 401
    assert AccessAttempt.objects.get().failures_since_start == 2
