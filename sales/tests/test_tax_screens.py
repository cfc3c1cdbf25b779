"""Tax on the screens (#15): Sales > Tax rates (history, a new version through
tax_rate_set, no change or delete), the sale's page and the field API's sale."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditLog
from sales.models import TaxRate
from sales.services import sale_post, tax_rate_set

pytestmark = pytest.mark.django_db

ADD = "admin:sales_taxrate_add"
LIST = "admin:sales_taxrate_changelist"


def test_head_office_adds_a_version_through_the_service(client, head_office):
    client.force_login(head_office)
    day = timezone.localdate() + timedelta(days=7)
    response = client.post(reverse(ADD), {"rate": "17.50", "starts_on": day.isoformat()})
    assert response.status_code == 302, response.context["adminform"].form.errors
    version = TaxRate.objects.get()
    assert (version.rate, version.created_by) == (Decimal("17.50"), head_office)
    assert timezone.localtime(version.effective_from).date() == day
    assert AuditLog.objects.filter(action="tax_rate_set").count() == 1


def test_no_date_means_from_now(client, head_office):
    client.force_login(head_office)
    before = timezone.now()
    assert client.post(reverse(ADD), {"rate": "8"}).status_code == 302
    assert TaxRate.objects.get().effective_from >= before


def test_a_refusal_shows_on_its_field_and_writes_nothing(
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
    response = client.post(reverse(ADD), {"rate": "10", "starts_on": yesterday.isoformat()})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "would reprice sales already posted" in " ".join(errors["starts_on"])
    response = client.post(reverse(ADD), {"rate": "100.5"})
    assert "rate" in response.context["adminform"].form.errors
    assert TaxRate.objects.count() == 0
    assert not AuditLog.objects.filter(action="tax_rate_set").exists()


def test_the_list_shows_the_history_newest_first_and_versions_do_not_change(client, head_office):
    now = timezone.now()
    tax_rate_set(rate="10", actor=head_office, at=now - timedelta(days=30))
    current = tax_rate_set(rate="12.50", actor=head_office, at=now - timedelta(days=1))
    tax_rate_set(rate="15", actor=head_office, effective_from=now + timedelta(days=30), at=now)
    client.force_login(head_office)
    response = client.get(reverse(LIST))
    assert response.status_code == 200
    rows = [
        (version.rate, response.context["cl"].model_admin.state(version))
        for version in response.context["cl"].result_list
    ]
    assert rows == [
        (Decimal("15.00"), "Scheduled"),
        (Decimal("12.50"), "In force"),
        (Decimal("10.00"), "Superseded"),
    ]
    assert b"GST rate" in response.content
    page = client.get(reverse("admin:sales_taxrate_change", args=[current.pk]))
    assert page.status_code == 200  # read-only
    assert not page.context["has_change_permission"]
    url = reverse("admin:sales_taxrate_delete", args=[current.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert TaxRate.objects.count() == 3


def test_a_manager_sees_the_rates_but_adds_none(client, manager, head_office):
    tax_rate_set(rate="10", actor=head_office)
    client.force_login(manager)
    assert client.get(reverse(LIST)).status_code == 200
    assert client.post(reverse(ADD), {"rate": "11"}).status_code == 403
    assert TaxRate.objects.count() == 1


@pytest.fixture
def taxed_sale(head_office, cash_customer, loaded_vehicle, products):
    tax_rate_set(rate="17.50", actor=head_office)
    return sale_post(
        customer=cash_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 5}],
    )


def test_the_sale_page_shows_net_tax_and_total_readably(client, head_office, taxed_sale):
    client.force_login(head_office)
    page = client.get(reverse("admin:sales_transaction_change", args=[taxed_sale.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    for shown in ("15,000.00", "GST rate", "17.50 %", "2,625.00", "17,625.00"):
        assert shown in text, shown


def test_the_sale_preview_shows_the_tax(client, manager, head_office, sale_form_data):
    tax_rate_set(rate="10", actor=head_office)
    client.force_login(manager)
    preview = client.post(
        reverse("admin:sales_transaction_add"), {**sale_form_data, "_preview": "1"}
    )
    assert "Net 6,000.00 + GST at 10.00 % 600.00" in preview.context["preview_lines"]
    assert "Total: 6,600.00" in preview.context["preview_lines"]


@pytest.fixture
def sale_form_data(cash_customer, loaded_vehicle, products):
    cyl = products["12.7KG"]
    return {
        "customer": cash_customer.pk,
        "sales_rep": loaded_vehicle.pk,
        f"qty_{cyl.pk}": 2,
        f"empties_{cyl.pk}": 2,
    }


def test_the_api_gives_the_sale_s_net_tax_rate_tax_and_total(
    head_office, cash_customer, loaded_vehicle
):
    tax_rate_set(rate="17.50", actor=head_office)
    api = APIClient()
    api.force_authenticate(loaded_vehicle)
    posted = api.post(
        "/api/sales/",
        {"customer": cash_customer.code, "lines": [{"product": "12.7KG", "quantity": 2}]},
        format="json",
    )
    assert posted.status_code == 201, posted.data
    expected = {
        "net_amount": "6000.00",
        "tax_rate": "17.50",
        "tax_amount": "1050.00",
        "total_amount": "7050.00",
    }
    assert {name: posted.data[name] for name in expected} == expected
    read = api.get(f"/api/sales/{posted.data['number']}/")
    assert {name: read.data[name] for name in expected} == expected
