"""A sale's customer belongs to the representative's depot (DESIGN.md, Service contract):
head office posting a NORTH representative's sale to a SOUTH customer is refused."""

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from core.models import AuditLog
from sales.models import Transaction
from sales.services import sale_post
from stock.models import StockMovement

pytestmark = pytest.mark.django_db


def test_a_customer_of_another_depot_is_refused(
    customer_factory, south, loaded_vehicle, products, head_office
):
    customer = customer_factory(depot=south)
    movements, entries = StockMovement.objects.count(), AuditLog.objects.count()
    with pytest.raises(ValidationError) as exc:
        sale_post(
            customer=customer,
            sales_rep=loaded_vehicle,
            actor=head_office,
            lines=[{"product": products["12.7KG"], "quantity": 1}],
        )
    (error,) = exc.value.error_dict["customer"]
    assert error.code == "customer_other_depot"
    assert error.message == (
        f"Customer {customer.code} belongs to depot SOUTH; "
        f"{loaded_vehicle.username} sells for depot NORTH."
    )
    assert Transaction.objects.count() == 0
    assert (StockMovement.objects.count(), AuditLog.objects.count()) == (movements, entries)


def test_a_meter_sale_to_a_customer_of_another_depot_is_refused(
    customer_factory, south, loaded_vehicle, head_office
):
    customer = customer_factory(depot=south)
    with pytest.raises(ValidationError) as exc:
        sale_post(
            customer=customer, sales_rep=loaded_vehicle, actor=head_office, meter_reading="10"
        )
    assert "customer" in exc.value.error_dict
    customer.refresh_from_db()
    assert customer.last_meter_reading == 0


def test_a_customer_moved_to_another_depot_can_no_longer_be_sold_to(
    customer_factory, south, loaded_vehicle, products
):
    customer = customer_factory()
    sale_post(
        customer=customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 1}],
    )
    customer.depot = south
    customer.save()
    with pytest.raises(ValidationError) as exc:
        sale_post(
            customer=customer,
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[{"product": products["12.7KG"], "quantity": 1}],
        )
    assert exc.value.error_dict["customer"][0].code == "customer_other_depot"
    assert Transaction.objects.count() == 1


def test_head_office_through_the_admin_form_sees_the_refusal_on_the_customer_field(
    client, customer_factory, south, loaded_vehicle, products, head_office
):
    customer = customer_factory(depot=south)
    cyl = products["12.7KG"]
    client.force_login(head_office)
    response = client.post(
        "/admin/sales/transaction/add/",
        {
            "customer": customer.pk,
            "sales_rep": loaded_vehicle.pk,
            f"qty_{cyl.pk}": 1,
            "_preview": "1",
        },
    )
    assert response.context["stage"] == "entry"
    assert "belongs to depot SOUTH" in str(response.context["form"].errors["customer"])
    assert Transaction.objects.count() == 0


def test_the_api_names_the_field_and_never_posts(customer_factory, south, loaded_vehicle):
    customer_factory(depot=south)  # C001, a SOUTH customer a NORTH rep cannot even see
    client = APIClient()
    client.force_authenticate(loaded_vehicle)
    response = client.post(
        "/api/sales/",
        {"customer": "C001", "lines": [{"product": "12.7KG", "quantity": 1}]},
        format="json",
    )
    assert response.status_code == 400
    assert "customer" in response.data["error"]["fields"]
    assert Transaction.objects.count() == 0
