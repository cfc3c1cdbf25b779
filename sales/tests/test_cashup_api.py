"""POST /api/cashups/ (the representative's own cash-up, with an Idempotency-Key) and
GET /api/cashups/ (theirs; managers their depots')."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from sales.day_models import CashUp
from sales.services import cashup_post, sale_post

pytestmark = pytest.mark.django_db

D = Decimal


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def sold(loaded_vehicle, cash_customer, products):
    """3000.00 of cash sales on the representative's vehicle."""
    sale_post(
        customer=cash_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 1}],
    )
    return loaded_vehicle


def test_a_representative_posts_their_cash_up_with_a_jwt(sold):
    api = APIClient()
    token = api.post(
        "/api/auth/token/",
        {"username": sold.username, "password": "correct-horse-battery"},
        format="json",
    )
    assert token.status_code == 200, token.content
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token.json()['access']}")
    response = api.post(
        "/api/cashups/",
        {"counted_cash": "2950.50", "note": "short: change"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="cu-1",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["number"].startswith("CU-")
    assert (data["expected_cash"], data["counted_cash"], data["variance"]) == (
        "3000.00",
        "2950.50",
        "-49.50",
    )
    assert (data["status"], data["sales_rep"], data["depot"], data["note"]) == (
        "POSTED",
        sold.username,
        "NORTH",
        "short: change",
    )
    again = api.post(
        "/api/cashups/",
        {"counted_cash": "2950.50", "note": "short: change"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="cu-1",
    )
    assert again.status_code == 201
    assert again.json()["number"] == data["number"]
    assert CashUp.objects.count() == 1


def test_the_same_key_with_another_count_is_a_conflict(sold):
    api = client_for(sold)
    first = api.post(
        "/api/cashups/", {"counted_cash": "1"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert first.status_code == 201
    other = api.post(
        "/api/cashups/", {"counted_cash": "2"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"


@pytest.mark.parametrize(
    "counted", ["-1.00", "12.345", 12.5, "1e3", "", None, "abc", "1000000000000.00"]
)
def test_a_bad_count_is_a_400_naming_counted_cash(sold, counted):
    response = client_for(sold).post("/api/cashups/", {"counted_cash": counted}, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["fields"]) == ["counted_cash"]
    assert not CashUp.objects.exists()


def test_counted_cash_is_required(sold):
    response = client_for(sold).post("/api/cashups/", {}, format="json")
    assert response.status_code == 400
    assert "counted_cash" in response.json()["error"]["fields"]


def test_managers_post_cash_ups_in_the_admin_not_the_api(manager):
    response = client_for(manager).post("/api/cashups/", {"counted_cash": "0"}, format="json")
    assert response.status_code == 403
    assert not CashUp.objects.exists()


def test_the_list_shows_each_role_what_it_may_see(sold, manager, user_factory, south):
    other = user_factory("SALES", depots=[south])
    mine = cashup_post(sales_rep=sold, counted_cash="0", actor=sold)
    theirs = cashup_post(sales_rep=other, counted_cash="5", actor=other)

    def numbers(user):
        response = client_for(user).get("/api/cashups/")
        assert response.status_code == 200
        return [row["number"] for row in response.json()["results"]]

    assert numbers(sold) == [mine.number]
    assert numbers(other) == [theirs.number]
    assert numbers(manager) == [mine.number]  # NORTH only
    one = client_for(sold).get(f"/api/cashups/{mine.number}/")
    assert (one.status_code, one.json()["variance"]) == (200, "-3000.00")
    assert client_for(sold).get(f"/api/cashups/{theirs.number}/").status_code == 404


def test_the_schema_documents_the_cash_up_and_the_day():
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert {"/api/cashups/", "/api/me/day/"} <= set(schema["paths"])
    post = schema["paths"]["/api/cashups/"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    body = post["requestBody"]["content"]["application/json"]
    assert body["examples"]
    day = schema["paths"]["/api/me/day/"]["get"]
    assert [p["name"] for p in day["parameters"]] == ["date"]
    assert day["responses"]["200"]["content"]["application/json"]["examples"]
