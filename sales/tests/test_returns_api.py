"""POST /api/returns/ (a cylinder return: the representative posts their own; a manager or
head office names the representative), its Idempotency-Key, its errors keyed by field,
its printable receipt; GET /api/customers/ with the cylinders and deposit each holds."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from sales.models import CylinderReturn, HoldingEntry
from sales.selectors import cylinders_held

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def held(head_office, loaded_vehicle, customer_factory, products):
    """A credit customer of NORTH holding 3 12.7KG cylinders, 7,500.00 paid on them."""
    from sales.services import deposit_set, sale_post

    deposit_set(product=products["12.7KG"], amount=D("2500.00"), actor=head_office)
    customer = customer_factory("CREDIT", credit_limit=D("100000.00"))
    sale_post(
        customer=customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 3, "empties_returned": 0}],
    )
    return customer


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def body(customer, quantity=1, product="12.7KG", **extra):
    return {
        "customer": customer.code,
        "lines": [{"product": product, "quantity": quantity}],
        **extra,
    }


def test_a_representative_posts_a_return_and_gets_the_document(held, loaded_vehicle, products):
    response = client_for(loaded_vehicle).post(
        "/api/returns/", body(held, 2), format="json", HTTP_IDEMPOTENCY_KEY="ret-1"
    )
    assert response.status_code == 201, response.data
    data = response.data
    assert data["number"].startswith("RET-")
    assert data["customer"] == held.code
    assert data["sales_rep"] == loaded_vehicle.username
    assert data["depot"] == "NORTH"
    assert data["refund_amount"] == "5000.00"
    assert data["refund_to"] == "ACCOUNT"
    assert data["returned"] == [{"product": "12.7KG", "quantity": 2, "refund": "5000.00"}]
    assert cylinders_held(customer=held, product=products["12.7KG"]) == 1
    # A retry replays the first; the same key with another body is a 409.
    again = client_for(loaded_vehicle).post(
        "/api/returns/", body(held, 2), format="json", HTTP_IDEMPOTENCY_KEY="ret-1"
    )
    assert again.status_code == 201
    assert again["Idempotent-Replay"] == "true"
    assert again.data["number"] == data["number"]
    other = client_for(loaded_vehicle).post(
        "/api/returns/", body(held, 1), format="json", HTTP_IDEMPOTENCY_KEY="ret-1"
    )
    assert other.status_code == 409
    assert other.data["error"]["code"] == "idempotency_key_reused"
    assert CylinderReturn.objects.count() == 1
    # It is in the representative's list, with its receipt to print.
    listed = client_for(loaded_vehicle).get("/api/returns/")
    assert [r["number"] for r in listed.data["results"]] == [data["number"]]
    pdf = client_for(loaded_vehicle).get(f"/api/returns/{data['number']}/receipt.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    roll = client_for(loaded_vehicle).get(f"/api/returns/{data['number']}/receipt/?width=58")
    assert roll.status_code == 200
    assert data["number"].encode() in roll.content


def test_a_return_of_more_than_held_is_refused_by_line_and_writes_nothing(held, loaded_vehicle):
    response = client_for(loaded_vehicle).post("/api/returns/", body(held, 4), format="json")
    assert response.status_code == 400
    error = response.data["error"]
    assert error["code"] == "more_than_held"
    assert "lines[0].quantity" in error["fields"]
    assert "holds 3" in error["message"]
    assert not CylinderReturn.objects.exists()
    assert not HoldingEntry.objects.filter(kind="RETURN").exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"customer": "NOPE", "lines": [{"product": "12.7KG", "quantity": 1}]}, "customer"),
        ({"customer": "C001", "lines": []}, "lines"),
        ({"customer": "C001", "lines": [{"product": "XX", "quantity": 1}]}, "lines[0].product"),
        (
            {"customer": "C001", "lines": [{"product": "12.7KG", "quantity": 0}]},
            "lines[0].quantity",
        ),
        (
            {"customer": "C001", "lines": [{"product": "12.7KG", "quantity": 1.0}]},
            "lines[0].quantity",
        ),
    ],
)
def test_bad_bodies_name_the_field(held, loaded_vehicle, payload, field):
    response = client_for(loaded_vehicle).post("/api/returns/", payload, format="json")
    assert response.status_code == 400
    assert field in response.data["error"]["fields"], response.data
    assert not CylinderReturn.objects.exists()


def test_a_manager_posts_for_a_representative_of_their_depot(held, manager, loaded_vehicle):
    missing = client_for(manager).post("/api/returns/", body(held), format="json")
    assert missing.status_code == 400
    assert "sales_rep" in missing.data["error"]["fields"]
    posted = client_for(manager).post(
        "/api/returns/", body(held, sales_rep=loaded_vehicle.username), format="json"
    )
    assert posted.status_code == 201, posted.data
    returned = CylinderReturn.objects.get()
    assert returned.sales_rep == loaded_vehicle
    assert returned.created_by == manager


def test_a_representative_cannot_post_for_another(held, loaded_vehicle, user_factory, north):
    other = user_factory("SALES", depots=[north], username="otherrep")
    response = client_for(loaded_vehicle).post(
        "/api/returns/", body(held, sales_rep=other.username), format="json"
    )
    assert response.status_code == 400
    assert "sales_rep" in response.data["error"]["fields"]
    assert not CylinderReturn.objects.exists()


def test_another_depots_manager_may_not_name_my_representative(
    held, loaded_vehicle, user_factory, south
):
    stranger = user_factory("MANAGER", depots=[south], username="southboss")
    response = client_for(stranger).post(
        "/api/returns/", body(held, sales_rep=loaded_vehicle.username), format="json"
    )
    assert response.status_code == 400
    assert not CylinderReturn.objects.exists()


def test_customers_list_their_cylinders_and_deposit_held(held, loaded_vehicle, customer_factory):
    customer_factory("CASH")  # holds nothing
    response = client_for(loaded_vehicle).get("/api/customers/")
    assert response.status_code == 200
    rows = {row["code"]: row for row in response.data["results"]}
    holding = rows[held.code]
    assert holding["deposit_held"] == "7500.00"
    assert holding["deposit_exempt"] is False
    [line] = holding["holdings"]
    assert line["product"] == "12.7KG"
    assert line["quantity"] == 3
    assert line["deposit_held"] == "7500.00"
    assert line["last_movement_at"]
    empty = next(row for code, row in rows.items() if code != held.code)
    assert empty["holdings"] == []
    assert empty["deposit_held"] == "0.00"


def test_a_sale_answers_with_the_deposit_charged_and_refunded(held, loaded_vehicle):
    """deposit_amount is in the total; deposit_refund (empties beyond those delivered,
    credited to the account here) is not."""
    response = client_for(loaded_vehicle).post(
        "/api/sales/",
        {
            "customer": held.code,
            "lines": [{"product": "12.7KG", "quantity": 1, "empties_returned": 3}],
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["deposit_amount"] == "0.00"
    assert response.data["deposit_refund"] == "5000.00"  # 2 of 3 held, 2,500.00 each
    assert response.data["total_amount"] == "3000.00"


def test_a_closed_customers_cylinders_come_back_through_the_api(held, loaded_vehicle):
    """A customer closed since (a business that shut) still returns its cylinders and
    gets its deposit back; the API named it unknown before."""
    from sales.models import Customer

    Customer.objects.filter(pk=held.pk).update(is_active=False)
    response = client_for(loaded_vehicle).post(
        "/api/returns/", body(held, 3), format="json", HTTP_IDEMPOTENCY_KEY="ret-closed"
    )
    assert response.status_code == 201, response.data
    assert response.data["refund_amount"] == "7500.00"
    assert cylinders_held(customer=held, product=held.holdings.get().product) == 0


def test_another_depots_closed_customer_stays_unknown(held, user_factory, south):
    from sales.models import Customer

    Customer.objects.filter(pk=held.pk).update(is_active=False)
    stranger = user_factory("SALES", depots=[south])
    response = client_for(stranger).post("/api/returns/", body(held, 1), format="json")
    assert response.status_code == 400
    assert "customer" in response.data["error"]["fields"]
    assert not CylinderReturn.objects.exists()
