"""Products through product_create and product_update: validated per field with a code,
one audit entry with old and new, nothing when nothing changed; the admin saves through
them and shows a refusal on its form."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.models import AuditLog
from stock.models import Product
from stock.services import product_create, product_update

pytestmark = pytest.mark.django_db


def entries(action):
    return list(AuditLog.objects.filter(action=action).order_by("seq"))


def codes(exc: ValidationError) -> dict[str, list[str]]:
    return {field: [e.code for e in errors] for field, errors in exc.error_dict.items()}


def test_product_create_is_audited_with_its_values(head_office):
    product = product_create(
        code="5KG", name="5 kg cylinder", kind="CYLINDER", capacity_kg="5.0", actor=head_office
    )
    assert product.capacity_kg == Decimal("5.0")
    [entry] = entries("product_create")
    assert (entry.actor, entry.object_id, entry.depot) == (head_office, str(product.pk), None)
    assert entry.data == {
        "product": "5KG",
        "values": {
            "code": "5KG",
            "name": "5 kg cylinder",
            "kind": "CYLINDER",
            "capacity_kg": "5.0",
            "unit": "cylinder",
            "sort_order": 100,
            "is_active": True,
        },
    }


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"kind": "CYLINDER"}, "capacity_kg", "capacity_required"),
        ({"kind": "CYLINDER", "capacity_kg": "0"}, "capacity_kg", "capacity_required"),
        ({"kind": "METERED", "capacity_kg": "5"}, "capacity_kg", "capacity_not_allowed"),
        ({"kind": "CYLINDER", "capacity_kg": "heavy"}, "capacity_kg", "invalid"),
        ({"kind": "GAS", "capacity_kg": None}, "kind", "invalid_choice"),
        ({"kind": "CYLINDER", "capacity_kg": "5", "code": "9KG"}, "code", "unique"),
    ],
)
def test_product_create_refuses_naming_field_and_code(head_office, kwargs, field, code):
    before = Product.objects.count()
    with pytest.raises(ValidationError) as exc:
        product_create(**{"code": "NEW", "name": "New", **kwargs}, actor=head_office)
    assert codes(exc.value) == {field: [code]}
    assert Product.objects.count() == before
    assert not entries("product_create")


def test_product_update_records_old_and_new(head_office):
    product = Product.objects.get(code="14KG")
    product_update(
        product=product,
        actor=head_office,
        data={"name": "14 kg (old valve)", "is_active": False, "capacity_kg": Decimal("14")},
    )
    product.refresh_from_db()
    assert (product.name, product.is_active) == ("14 kg (old valve)", False)
    [entry] = entries("product_update")
    assert entry.data == {
        "product": "14KG",
        "changes": {
            "name": {"old": "14 kg cylinder", "new": "14 kg (old valve)"},
            "is_active": {"old": True, "new": False},
        },
    }


def test_product_update_without_a_change_writes_nothing(head_office):
    product = Product.objects.get(code="BULK")
    history = product.history.count()
    product_update(product=product, actor=head_office, data={"capacity_kg": None, "unit": "kg"})
    assert not entries("product_update")
    assert product.history.count() == history


@pytest.mark.parametrize(
    ("code", "data", "field", "error"),
    [
        ("12.7KG", {"kind": "METERED"}, "kind", "not_editable"),
        ("12.7KG", {"code": "13KG"}, "code", "not_editable"),
        ("12.7KG", {"capacity_kg": None}, "capacity_kg", "capacity_required"),
        ("BULK", {"capacity_kg": "10"}, "capacity_kg", "capacity_not_allowed"),
        ("12.7KG", {"name": ""}, "name", "blank"),
    ],
)
def test_product_update_refuses_naming_field_and_code(head_office, code, data, field, error):
    product = Product.objects.get(code=code)
    with pytest.raises(ValidationError) as exc:
        product_update(product=product, actor=head_office, data=data)
    assert codes(exc.value) == {field: [error]}
    assert not entries("product_update")
    assert Product.objects.get(pk=product.pk).name == product.name


def test_admin_adds_and_changes_a_product_through_the_services(client, head_office):
    client.force_login(head_office)
    response = client.post(
        reverse("admin:stock_product_add"),
        {
            "code": "2KG",
            "name": "2 kg cylinder",
            "kind": "CYLINDER",
            "capacity_kg": "2.0",
            "unit": "cylinder",
            "sort_order": "5",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    product = Product.objects.get(code="2KG")
    response = client.post(
        reverse("admin:stock_product_change", args=[product.pk]),
        {
            "name": "2 kg camping cylinder",
            "capacity_kg": "2.0",
            "unit": "cylinder",
            "sort_order": "5",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    [created] = entries("product_create")
    [changed] = entries("product_update")
    assert (created.actor, changed.actor) == (head_office, head_office)
    assert changed.data["changes"] == {
        "name": {"old": "2 kg cylinder", "new": "2 kg camping cylinder"}
    }


def test_admin_shows_a_refusal_on_the_field_and_writes_nothing(client, head_office):
    client.force_login(head_office)
    product = Product.objects.get(code="9KG")
    response = client.post(
        reverse("admin:stock_product_change", args=[product.pk]),
        {
            "name": "Renamed",
            "capacity_kg": "",
            "unit": "cylinder",
            "sort_order": "10",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["capacity_kg"] == [
        "A cylinder needs its capacity in kg, above zero."
    ]
    product.refresh_from_db()
    assert (product.name, product.capacity_kg) == ("9 kg cylinder", Decimal("9.0"))
    assert not entries("product_update")
