"""Customers through customer_create and customer_update: a credit limit or payment type
changed is on the audit log, old and new, with who changed it; refusals name the field
and a code and write nothing; the admin saves through the services."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from core.models import AuditLog
from sales.models import Customer
from sales.services import customer_create, customer_update

pytestmark = pytest.mark.django_db


def entries(action):
    return list(AuditLog.objects.filter(action=action).order_by("seq"))


def codes(exc: ValidationError) -> dict[str, list[str]]:
    return {field: [e.code for e in errors] for field, errors in exc.error_dict.items()}


@pytest.fixture
def customer(north, head_office):
    return customer_create(
        code="C900",
        name="Harbour Hotel",
        depot=north,
        payment_type="CREDIT",
        credit_limit="1000.00",
        actor=head_office,
    )


def test_customer_create_is_audited_with_its_values(customer, head_office, north):
    assert customer.credit_limit == Decimal("1000.00")
    [entry] = entries("customer_create")
    assert (entry.actor, entry.depot, entry.object_id) == (head_office, north, str(customer.pk))
    assert entry.data == {
        "customer": "C900",
        "values": {
            "code": "C900",
            "name": "Harbour Hotel",
            "address": "",
            "phone": "",
            "email": "",
            "email_invoices": True,
            "depot": "NORTH",
            "payment_type": "CREDIT",
            "credit_limit": "1000.00",
            "deposit_exempt": False,
            "is_active": True,
            "last_meter_reading": "0.00",
        },
    }


def test_credit_terms_changed_leave_old_and_new(customer, head_office):
    customer_update(
        customer=customer,
        actor=head_office,
        data={"credit_limit": Decimal("2500"), "payment_type": "CASH", "name": "Harbour Hotel"},
    )
    customer.refresh_from_db()
    assert (customer.credit_limit, customer.payment_type) == (Decimal("2500.00"), "CASH")
    [entry] = entries("customer_update")
    assert entry.actor == head_office
    assert entry.data == {
        "customer": "C900",
        "changes": {
            "credit_limit": {"old": "1000.00", "new": "2500.00"},
            "payment_type": {"old": "CREDIT", "new": "CASH"},
        },
    }


def test_a_limit_removed_and_a_depot_moved(customer, head_office, south):
    customer_update(customer=customer, actor=head_office, data={"credit_limit": ""})
    customer_update(customer=customer, actor=head_office, data={"depot": south})
    removed, moved = entries("customer_update")
    assert removed.data["changes"] == {"credit_limit": {"old": "1000.00", "new": None}}
    assert moved.data["changes"] == {"depot": {"old": "NORTH", "new": "SOUTH"}}
    assert moved.depot == south


def test_nothing_changed_writes_nothing(customer, head_office, north):
    history = customer.history.count()
    same = customer_update(
        customer=customer,
        actor=head_office,
        data={"credit_limit": "1000", "depot": north, "payment_type": "CREDIT"},
    )
    assert same.pk == customer.pk
    assert not entries("customer_update")
    assert customer.history.count() == history


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"credit_limit": "-1"}, "credit_limit", "amount_too_small"),
        ({"credit_limit": "12.345"}, "credit_limit", "too_many_decimals"),
        ({"credit_limit": "lots"}, "credit_limit", "not_an_amount"),
        ({"payment_type": "BARTER"}, "payment_type", "invalid_choice"),
        ({"name": ""}, "name", "blank"),
        ({"code": "C901"}, "code", "not_editable"),
        ({"last_meter_reading": "5"}, "last_meter_reading", "not_editable"),
    ],
)
def test_customer_update_refuses_naming_field_and_code(customer, head_office, data, field, code):
    with pytest.raises(ValidationError) as exc:
        customer_update(customer=customer, actor=head_office, data=data)
    assert codes(exc.value) == {field: [code]}
    assert not entries("customer_update")
    fresh = Customer.objects.get(pk=customer.pk)
    assert (fresh.code, fresh.name, fresh.credit_limit) == (
        "C900",
        "Harbour Hotel",
        Decimal("1000"),
    )


def test_a_closed_depot_takes_no_customers(customer, head_office, depot_factory):
    closed = depot_factory("WEST", is_active=False)
    with pytest.raises(ValidationError) as exc:
        customer_update(customer=customer, actor=head_office, data={"depot": closed})
    assert codes(exc.value) == {"depot": ["depot_inactive"]}
    with pytest.raises(ValidationError) as exc:
        customer_create(code="C902", name="New", depot=closed, actor=head_office)
    assert codes(exc.value) == {"depot": ["depot_inactive"]}
    assert not Customer.objects.filter(code="C902").exists()


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"code": "C900"}, "code", "unique"),
        ({"code": ""}, "code", "blank"),
        ({"last_meter_reading": "-3"}, "last_meter_reading", "amount_too_small"),
        ({"credit_limit": "-5"}, "credit_limit", "amount_too_small"),
    ],
)
def test_customer_create_refuses_naming_field_and_code(
    customer, head_office, north, kwargs, field, code
):
    before = Customer.objects.count()
    with pytest.raises(ValidationError) as exc:
        customer_create(**{"code": "C903", "name": "New", **kwargs}, depot=north, actor=head_office)
    assert codes(exc.value) == {field: [code]}
    assert Customer.objects.count() == before
    assert len(entries("customer_create")) == 1  # the fixture's


def test_a_manager_may_not_change_another_depots_customer(customer, user_factory, south):
    outsider = user_factory("MANAGER", depots=[south])
    with pytest.raises(PermissionDenied):
        customer_update(customer=customer, actor=outsider, data={"credit_limit": "9999"})
    assert Customer.objects.get(pk=customer.pk).credit_limit == Decimal("1000")


# --- The admin -----------------------------------------------------------------------

FORM = {
    "name": "Harbour Hotel",
    "address": "",
    "phone": "",
    "email_invoices": "on",
    "is_active": "on",
    "payment_type": "CREDIT",
    "credit_limit": "1000.00",
}


def test_admin_adds_a_customer_through_the_service(client, head_office, north):
    client.force_login(head_office)
    response = client.post(
        reverse("admin:sales_customer_add"),
        {**FORM, "code": "C950", "depot": north.pk, "last_meter_reading": "120.50"},
    )
    assert response.status_code == 302
    customer = Customer.objects.get(code="C950")
    assert customer.last_meter_reading == Decimal("120.50")
    [entry] = entries("customer_create")
    assert (entry.actor, entry.object_id) == (head_office, str(customer.pk))
    assert response.url == reverse("admin:sales_customer_changelist")


def test_admin_change_of_the_credit_limit_is_audited(client, head_office, customer, north):
    client.force_login(head_office)
    response = client.post(
        reverse("admin:sales_customer_change", args=[customer.pk]),
        {**FORM, "depot": north.pk, "credit_limit": "5000.00"},
    )
    assert response.status_code == 302
    [entry] = entries("customer_update")
    assert entry.actor == head_office
    assert entry.data["changes"] == {"credit_limit": {"old": "1000.00", "new": "5000.00"}}
    assert Customer.objects.get(pk=customer.pk).credit_limit == Decimal("5000.00")


def test_admin_shows_a_refusal_on_the_field_and_writes_nothing(
    client, head_office, customer, north, depot_factory
):
    closed = depot_factory("WEST", is_active=False)
    client.force_login(head_office)
    response = client.post(
        reverse("admin:sales_customer_change", args=[customer.pk]),
        {**FORM, "depot": closed.pk, "credit_limit": "5000.00"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["depot"] == [
        "Depot WEST is closed (inactive): choose an open depot."
    ]
    fresh = Customer.objects.get(pk=customer.pk)
    assert (fresh.depot, fresh.credit_limit) == (north, Decimal("1000.00"))
    assert not entries("customer_update")


def test_admin_form_error_before_the_service_writes_nothing(client, head_office, north):
    client.force_login(head_office)
    response = client.post(
        reverse("admin:sales_customer_add"),
        {**FORM, "code": "C951", "depot": north.pk, "credit_limit": "-1"},
    )
    assert response.status_code == 200
    assert "credit_limit" in response.context["adminform"].form.errors
    assert not Customer.objects.filter(code="C951").exists()
    assert not entries("customer_create")
