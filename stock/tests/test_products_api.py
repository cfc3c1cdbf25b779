"""GET /api/products/: what the handheld needs to know of each product on sale."""

import pytest
from rest_framework.test import APIClient

from stock.models import Product
from stock.services import product_create

pytestmark = pytest.mark.django_db


def test_the_handheld_sees_services_and_list_prices(sales_rep, head_office):
    product_create(
        code="INSTALL", name="Installation", kind="SERVICE", actor=head_office, list_price="1500"
    )
    Product.objects.filter(code="14KG").update(is_active=False)
    client = APIClient()
    client.force_authenticate(sales_rep)
    listed = {p["code"]: p for p in client.get("/api/products/").json()["results"]}
    assert "14KG" not in listed  # not on sale
    assert listed["INSTALL"] == {
        "code": "INSTALL",
        "name": "Installation",
        "kind": "SERVICE",
        "kind_label": "Service (never stocked)",
        "unit": "service",
        "capacity_kg": None,
        "list_price": "1500.00",
    }
    assert listed["12.7KG"]["kind"] == "CYLINDER"
    one = client.get("/api/products/12.7KG/")
    assert one.status_code == 200
    assert one.json()["code"] == "12.7KG"


def test_products_need_a_signed_in_user():
    assert APIClient().get("/api/products/").status_code == 401
