"""A confirm page's token that could never have been issued (5,000 characters, a NUL) is
"the confirmation expired", on every screen with a confirm step, not a 500 from the
database (varchar(64), "cannot contain NUL"); nothing is posted."""

import pytest
from django.urls import reverse

from sales.models import Payment, Transaction
from sales.services import payment_record

pytestmark = pytest.mark.django_db

EXPIRED = "The confirmation expired; preview the form again."
BAD_TOKENS = ["x" * 5000, "a" * 65, "abc\x00def", "\x00", "abc def", "abc/def", "é" * 10]


@pytest.fixture
def screens(credit_customer, loaded_vehicle, products, manager):
    payment = payment_record(customer=credit_customer, amount="100.00", actor=manager)
    cylinder = products["12.7KG"]
    return {
        "payment reversal": (
            reverse("admin:sales_payment_reverse", args=[payment.pk]),
            {"payments": str(payment.pk), "reason": "ok"},
        ),
        "payment": (
            reverse("admin:sales_payment_add"),
            {"customer": credit_customer.pk, "amount": "10.00", "method": "CASH"},
        ),
        "sale": (
            reverse("admin:sales_transaction_add"),
            {
                "customer": credit_customer.pk,
                "sales_rep": loaded_vehicle.pk,
                f"qty_{cylinder.pk}": 1,
            },
        ),
    }


@pytest.mark.parametrize("screen", ["payment reversal", "payment", "sale"])
@pytest.mark.parametrize("token", BAD_TOKENS)
def test_a_token_that_was_never_issued_is_an_expired_confirmation(
    client, manager, screens, screen, token
):
    url, data = screens[screen]
    client.force_login(manager)
    before = (Payment.objects.count(), Transaction.objects.count())
    client.raise_request_exception = False
    response = client.post(url, {**data, "_confirm": "1", "_token": token})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [EXPIRED]
    assert (Payment.objects.count(), Transaction.objects.count()) == before
    assert not Payment.objects.filter(reversed_at__isnull=False).exists()


@pytest.mark.parametrize("screen", ["payment reversal", "payment", "sale"])
def test_the_issued_token_still_posts(client, manager, screens, screen):
    url, data = screens[screen]
    client.force_login(manager)
    preview = client.post(url, {**data, "_preview": "1"})
    assert preview.context["stage"] == "confirm", preview.context["form"].errors
    response = client.post(url, {**data, "_confirm": "1", "_token": preview.context["token"]})
    assert response.status_code == 302
