"""Sales > Deposit rates (sales/admin/deposits.py): every version, a new one through
deposit_set, no change or delete; the customer form's deposit_exempt."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import AuditLog
from sales.models import DepositRate
from sales.services import deposit_set, sale_post

pytestmark = pytest.mark.django_db

ADD = "admin:sales_depositrate_add"
LIST = "admin:sales_depositrate_changelist"


def test_head_office_adds_a_version_through_the_service(client, head_office, products):
    client.force_login(head_office)
    day = timezone.localdate() + timedelta(days=7)
    response = client.post(
        reverse(ADD),
        {"product": products["12.7KG"].pk, "amount": "500.00", "starts_on": day.isoformat()},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    version = DepositRate.objects.get()
    assert (version.product, version.amount, version.created_by) == (
        products["12.7KG"],
        Decimal("500.00"),
        head_office,
    )
    assert timezone.localtime(version.effective_from).date() == day
    assert AuditLog.objects.filter(action="deposit_set").count() == 1


def test_refusals_show_on_their_fields_and_write_nothing(
    client, head_office, cash_customer, loaded_vehicle, products
):
    sale_post(
        customer=cash_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["9KG"], "quantity": 1}],
    )
    client.force_login(head_office)
    yesterday = timezone.localdate() - timedelta(days=1)
    response = client.post(
        reverse(ADD),
        {"product": products["9KG"].pk, "amount": "300", "starts_on": yesterday.isoformat()},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "would reprice sales already posted" in " ".join(errors["starts_on"])
    response = client.post(reverse(ADD), {"product": products["9KG"].pk, "amount": "-1"})
    assert "amount" in response.context["adminform"].form.errors
    response = client.post(reverse(ADD), {"product": products["BULK"].pk, "amount": "10"})
    assert "product" in response.context["adminform"].form.errors  # cylinders only
    assert DepositRate.objects.count() == 0
    assert not AuditLog.objects.filter(action="deposit_set").exists()


def test_the_list_shows_each_products_version_in_force(client, head_office, products):
    now = timezone.now()
    cyl, small = products["12.7KG"], products["9KG"]
    deposit_set(product=cyl, amount="400", actor=head_office, at=now - timedelta(days=30))
    deposit_set(product=cyl, amount="450", actor=head_office, at=now - timedelta(days=1))
    deposit_set(product=small, amount="300", actor=head_office, at=now - timedelta(days=2))
    deposit_set(
        product=cyl, amount="500", actor=head_office, effective_from=now + timedelta(days=9)
    )
    client.force_login(head_office)
    page = client.get(reverse(LIST)).content.decode()
    assert page.count("In force") == 2  # one per product
    assert page.count("Superseded") == 1
    assert page.count("Scheduled") == 1
    assert "450.00" in page


def test_versions_are_never_changed_or_deleted(client, head_office, products):
    version = deposit_set(product=products["9KG"], amount="300", actor=head_office)
    client.force_login(head_office)
    page = client.get(reverse("admin:sales_depositrate_change", args=[version.pk]))
    assert page.status_code == 200
    assert b'name="amount"' not in page.content  # read-only
    client.post(reverse("admin:sales_depositrate_change", args=[version.pk]), {"amount": "1"})
    url = reverse("admin:sales_depositrate_delete", args=[version.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    version.refresh_from_db()
    assert version.amount == Decimal("300.00")


CUSTOMER_FORM = {
    "name": "Own Cylinders Ltd",
    "address": "",
    "phone": "",
    "email_invoices": "on",
    "is_active": "on",
    "payment_type": "CASH",
    "credit_limit": "",
}


def test_the_customer_form_marks_a_customer_deposit_exempt(client, head_office, north):
    from sales.models import Customer

    client.force_login(head_office)
    response = client.post(
        reverse("admin:sales_customer_add"),
        {
            **CUSTOMER_FORM,
            "code": "OWN9",
            "depot": north.pk,
            "last_meter_reading": "0",
            "deposit_exempt": "on",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    customer = Customer.objects.get(code="OWN9")
    assert customer.deposit_exempt is True
    response = client.post(
        reverse("admin:sales_customer_change", args=[customer.pk]),
        {**CUSTOMER_FORM, "depot": north.pk},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert customer.deposit_exempt is False
    change = AuditLog.objects.filter(action="customer_update").latest("id")
    assert change.data["changes"]["deposit_exempt"] == {"old": True, "new": False}
