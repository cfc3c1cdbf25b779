"""Services (installation, a delivery charge) as products, and list prices: created and
changed through the product services (checked, audited), shown by the Products admin."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from core.models import AuditLog
from stock.models import Product, ProductKind
from stock.services import product_create, product_update
from stock.services.products import list_price_value, list_prices_set

pytestmark = pytest.mark.django_db


def entries(action):
    return list(AuditLog.objects.filter(action=action).order_by("id"))


def test_a_service_is_created_with_a_list_price_and_audited(head_office):
    service = product_create(
        code="INSTALL",
        name="Installation",
        kind=ProductKind.SERVICE,
        actor=head_office,
        list_price="1500",
    )
    assert (service.kind, service.capacity_kg, service.unit) == ("SERVICE", None, "service")
    assert service.list_price == Decimal("1500.00")
    assert not service.is_cylinder
    [entry] = entries("product_create")
    assert entry.data["values"]["list_price"] == "1500.00"
    assert entry.data["values"]["kind"] in ("SERVICE", "Service (never stocked)")


def test_a_service_has_no_capacity(head_office):
    with pytest.raises(ValidationError) as exc:
        product_create(
            code="INSTALL",
            name="Installation",
            kind=ProductKind.SERVICE,
            actor=head_office,
            capacity_kg="12.5",
        )
    [error] = exc.value.error_dict["capacity_kg"]
    assert error.code == "capacity_not_allowed"
    assert error.message == "A service (never stocked) has no capacity: leave it empty."
    assert not Product.objects.filter(code="INSTALL").exists()


def test_a_service_keeps_no_capacity_on_update(head_office):
    service = product_create(
        code="DELIVERY", name="Delivery charge", kind=ProductKind.SERVICE, actor=head_office
    )
    with pytest.raises(ValidationError) as exc:
        product_update(product=service, actor=head_office, data={"capacity_kg": "3"})
    assert [e.code for e in exc.value.error_dict["capacity_kg"]] == ["capacity_not_allowed"]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("-1", "amount_too_small"),
        ("1e3", "not_an_amount"),
        ("1,500", "not_an_amount"),
        (1500.5, "not_an_amount"),
        ("12.345", "too_many_decimals"),
        ("1000000000000", "amount_too_large"),
    ],
)
def test_a_list_price_is_a_plain_amount(head_office, value, code):
    product = Product.objects.get(code="9KG")
    with pytest.raises(ValidationError) as exc:
        product_update(product=product, actor=head_office, data={"list_price": value})
    assert [e.code for e in exc.value.error_dict["list_price"]] == [code]
    assert Product.objects.get(pk=product.pk).list_price is None
    assert not entries("product_update")
    with pytest.raises(ValidationError):
        product_create(code="X", name="X", kind="SERVICE", actor=head_office, list_price=value)


def test_a_list_price_is_set_changed_and_cleared_with_audit_entries(head_office):
    product = Product.objects.get(code="9KG")
    product_update(product=product, actor=head_office, data={"list_price": "2850"})
    product_update(product=product, actor=head_office, data={"list_price": Decimal("2850.00")})
    product_update(product=product, actor=head_office, data={"list_price": ""})
    assert Product.objects.get(pk=product.pk).list_price is None
    changes = [e.data["changes"]["list_price"] for e in entries("product_update")]
    assert changes == [{"old": None, "new": "2850.00"}, {"old": "2850.00", "new": None}]


def test_list_price_value_reads_none_and_blank_as_none():
    assert list_price_value(None) is None
    assert list_price_value("  ") is None
    assert list_price_value(7) == Decimal("7.00")


def test_list_prices_are_set_together_or_not_at_all(head_office):
    products = {p.code: p for p in Product.objects.all()}
    changed = list_prices_set(
        prices={products["9KG"]: "2850", products["14KG"]: "4390.00"}, actor=head_office
    )
    assert {p.code for p in changed} == {"9KG", "14KG"}
    again = list_prices_set(prices={products["9KG"]: "2850.00"}, actor=head_office)
    assert again == []  # unchanged: nothing written
    assert len(entries("product_update")) == 2
    with pytest.raises(ValidationError) as exc:
        list_prices_set(prices={products["9KG"]: "1", products["14KG"]: "-5"}, actor=head_office)
    [error] = exc.value.error_dict["list_price"]
    assert (error.code, error.message) == (
        "amount_too_small",
        "14KG: A list price must be 0 or more; got -5.",
    )
    assert Product.objects.get(code="9KG").list_price == Decimal("2850.00")


def test_list_prices_are_set_by_head_office_only(manager):
    product = Product.objects.get(code="9KG")
    with pytest.raises(PermissionDenied):
        list_prices_set(prices={product: "1"}, actor=manager)


def test_the_products_admin_adds_a_service_and_shows_list_prices(client, head_office):
    client.force_login(head_office)
    response = client.post(
        reverse("admin:stock_product_add"),
        {
            "code": "INSTALL",
            "name": "Installation",
            "kind": "SERVICE",
            "capacity_kg": "",
            "unit": "service",
            "list_price": "1500.00",
            "sort_order": "200",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    service = Product.objects.get(code="INSTALL")
    assert (service.kind, service.list_price) == ("SERVICE", Decimal("1500.00"))
    page = client.get(reverse("admin:stock_product_changelist"))
    text = page.content.decode()
    assert "Service (never stocked)" in text
    assert "1,500.00" in text
    response = client.post(
        reverse("admin:stock_product_change", args=[service.pk]),
        {
            "name": "Installation",
            "unit": "service",
            "list_price": "1e3",
            "sort_order": "200",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["list_price"]
    assert Product.objects.get(pk=service.pk).list_price == Decimal("1500.00")


def test_the_dashboard_panel_shows_list_prices(client, head_office):
    product = Product.objects.get(code="12.7KG")
    product_update(product=product, actor=head_office, data={"list_price": "3980"})
    client.force_login(head_office)
    page = client.get(reverse("admin:index"))
    assert "3,980.00" in page.content.decode()


def test_a_service_is_never_received_into_stock(north, head_office):
    from django.core.exceptions import ValidationError

    from stock.services import product_create, stock_receive

    service = product_create(
        code="FIT", name="Fitting", kind="SERVICE", actor=head_office, list_price="100.00"
    )
    with pytest.raises(ValidationError) as refused:
        stock_receive(depot=north, product=service, quantity=1, actor=head_office)
    assert refused.value.message_dict["product"] == ["FIT is a service; it is never stocked."]
