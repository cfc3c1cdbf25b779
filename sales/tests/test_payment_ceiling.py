"""PAYMENT_MAX_AMOUNT: one payment above it is refused by the service, so the admin form
and the API refuse it alike, naming the amount and the ceiling."""

from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from sales.models import Payment

pytestmark = pytest.mark.django_db


def test_the_api_refuses_a_payment_above_the_ceiling(credit_customer, loaded_vehicle, settings):
    settings.PAYMENT_MAX_AMOUNT = Decimal("10000000.00")
    client = APIClient()
    client.force_authenticate(loaded_vehicle)
    response = client.post(
        "/api/payments/",
        {"customer": credit_customer.code, "amount": "150000000.00"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="typo-1",
    )
    assert response.status_code == 400
    (message,) = response.data["error"]["fields"]["amount"]
    assert "150,000,000.00" in message
    assert "10,000,000.00" in message
    assert Payment.objects.count() == 0


def test_the_admin_form_refuses_it_on_the_amount_field(client, manager, credit_customer, settings):
    settings.PAYMENT_MAX_AMOUNT = Decimal("5000.00")
    client.force_login(manager)
    response = client.post(
        reverse("admin:sales_payment_add"),
        {
            "customer": credit_customer.pk,
            "amount": "5000.01",
            "method": "CASH",
            "_preview": "1",
        },
    )
    assert response.context["stage"] == "entry"
    assert "5,000.00" in str(response.context["form"].errors["amount"])
    assert Payment.objects.count() == 0
