"""A service's machine code reaches the handheld untouched, in {"error": {"code"}}, for
both forms of ValidationError (docs/error-codes.md); the admin shows the message."""

import json
from decimal import Decimal

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from core.api.errors import exception_handler
from sales.models import Customer
from sales.services import rate_set

pytestmark = pytest.mark.django_db


def envelope(exc: ValidationError) -> dict:
    response = exception_handler(exc, {})
    assert response.status_code == 400
    return response.data["error"]


# --- The handler: what it makes of each form ------------------------------------------


def test_a_field_refusal_keeps_its_code_field_and_message():
    refusal = ValidationError(
        {"customer": ValidationError("Over the credit limit.", code="credit_limit")}
    )
    assert envelope(refusal) == {
        "status": 400,
        "code": "credit_limit",
        "message": "Over the credit limit.",
        "fields": {"customer": ["Over the credit limit."]},
    }


def test_a_plain_refusal_keeps_its_code_and_names_no_field():
    refusal = ValidationError("TX-2026-000001 is already void.", code="already_void")
    assert envelope(refusal) == {
        "status": 400,
        "code": "already_void",
        "message": "TX-2026-000001 is already void.",
        "fields": {},
    }


def test_a_message_with_parameters_is_filled_in():
    refusal = ValidationError("Use at most %(n)s characters.", code="max_length", params={"n": 5})
    assert (envelope(refusal)["code"], envelope(refusal)["message"]) == (
        "max_length",
        "Use at most 5 characters.",
    )


def test_several_errors_carry_the_code_of_the_first_the_service_listed():
    """Every message stays on its field; the envelope's one code and message are the
    first error's, in the order the service put them in (user_assignment_validate:
    depots before vehicle_no)."""
    refusal = ValidationError(
        {
            "depots": ValidationError("Exactly one home depot.", code="home_depot_not_one"),
            "vehicle_no": ValidationError("Needs a vehicle number.", code="required"),
        }
    )
    error = envelope(refusal)
    assert (error["code"], error["message"]) == ("home_depot_not_one", "Exactly one home depot.")
    assert error["fields"] == {
        "depots": ["Exactly one home depot."],
        "vehicle_no": ["Needs a vehicle number."],
    }
    several_on_one_field = ValidationError(
        {
            "lines": [
                ValidationError("lines[0].quantity: too small.", code="quantity_too_small"),
                ValidationError("lines[1]: 9KG appears twice.", code="duplicate_product"),
            ]
        }
    )
    assert envelope(several_on_one_field)["code"] == "quantity_too_small"


def test_a_general_message_comes_first_the_code_stays_the_first_listed():
    """The message prefers a general (non-field) error; the code does not: it is the first
    error's in the service's order. No service raises both kinds at once today."""
    refusal = ValidationError(
        {
            "customer": ValidationError("About the customer.", code="customer_inactive"),
            NON_FIELD_ERRORS: ValidationError("About the whole sale.", code="amount_too_large"),
        }
    )
    error = envelope(refusal)
    assert (error["code"], error["message"]) == ("customer_inactive", "About the whole sale.")


def test_an_error_without_a_code_is_invalid():
    """Only a ValidationError from outside the services (none of theirs: the scan in
    core/tests/test_error_codes.py) has no code; the envelope says "invalid"."""
    assert envelope(ValidationError({"name": "Bad."}))["code"] == "invalid"
    uncoded_first = ValidationError(
        {"a": ValidationError("One."), "b": ValidationError("Two.", code="second")}
    )
    assert envelope(uncoded_first)["code"] == "second"


# --- Through the API: representative refusals -----------------------------------------


@pytest.fixture
def world(field_day, head_office, sales_rep, south):
    """NORTH: the rep has 20 full 12.7KG on the vehicle; C1 (credit) buys at 3000."""
    cyl, customers = field_day(received=25, collector=sales_rep)
    return {"cyl": cyl, "c1": customers["C1"], "rep": sales_rep, "admin": head_office}


def api(user) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


def error_of(response) -> dict:
    assert response.status_code == 400, response.content[:300]
    body = json.loads(response.content)
    assert set(body) == {"error"}
    return body["error"]


def test_a_distribution_from_another_depot_says_sales_rep_other_depot(world):
    response = api(world["rep"]).post(
        "/api/distributions/",
        {"depot": "SOUTH", "product": "12.7KG", "quantity": 1, "kind": "COLLECTION"},
        format="json",
    )
    message = "northrep works from depot NORTH, not SOUTH."
    assert error_of(response) == {
        "status": 400,
        "code": "sales_rep_other_depot",
        "message": message,
        "fields": {"depot": [message]},
    }


def test_a_distribution_of_bulk_gas_says_product_not_cylinder(world):
    response = api(world["rep"]).post(
        "/api/distributions/",
        {"depot": "NORTH", "product": "BULK", "quantity": 1, "kind": "COLLECTION"},
        format="json",
    )
    error = error_of(response)
    assert error["code"] == "product_not_cylinder"
    assert error["fields"] == {
        "product": ["BULK is sold by meter reading; it has no cylinder stock."]
    }


def test_a_product_twice_on_a_sale_says_duplicate_product(world):
    line = {"product": "12.7KG", "quantity": 1}
    response = api(world["rep"]).post(
        "/api/sales/", {"customer": "C1", "lines": [line, line]}, format="json"
    )
    error = error_of(response)
    assert error["code"] == "duplicate_product"
    assert error["fields"] == {"lines": ["lines[1]: 12.7KG appears twice; put it on one line."]}


def test_a_sale_too_large_for_the_books_says_amount_too_large_on_no_field(world):
    """The plain form (no field at fault) through the API."""
    rate_set(
        customer=world["c1"],
        product=world["cyl"],
        rate=Decimal("999999999999.99"),
        actor=world["admin"],
    )
    response = api(world["rep"]).post(
        "/api/sales/",
        {"customer": "C1", "lines": [{"product": "12.7KG", "quantity": 2}]},
        format="json",
    )
    assert error_of(response) == {
        "status": 400,
        "code": "amount_too_large",
        "message": "The sale's total 1,999,999,999,999.98 is too large; check the figures.",
        "fields": {},
    }


def test_a_payment_from_a_cash_customer_who_owes_nothing_says_so(world, north):
    Customer.objects.create(code="CASH1", name="Cash buyer", depot=north, payment_type="CASH")
    response = api(world["rep"]).post(
        "/api/payments/", {"customer": "CASH1", "amount": "100.00"}, format="json"
    )
    error = error_of(response)
    assert error["code"] == "cash_customer_owes_nothing"
    assert list(error["fields"]) == ["customer"]


# --- The admin: the message, never the code ---------------------------------------------


def test_the_admin_shows_the_message_not_the_code(client, manager, north):
    customer = Customer.objects.create(
        code="CASH1", name="Cash buyer", depot=north, payment_type="CASH"
    )
    client.force_login(manager)
    response = client.post(
        reverse("admin:sales_payment_add"),
        {"customer": customer.pk, "amount": "100.00", "method": "CASH", "_preview": "1"},
    )
    message = (
        "Customer CASH1 pays cash at each sale and owes nothing; payments are recorded for "
        "credit customers."
    )
    assert response.context["form"].errors["customer"] == [message]
    page = response.content.decode()
    assert "cash_customer_owes_nothing" not in page
    assert "owes nothing; payments are recorded" in page
