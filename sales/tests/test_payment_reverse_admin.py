"""Reversing payments in the admin: the payment page's button and the list's action ask
why, preview what becomes unpaid (the real reversal, rolled back), and post once."""

from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from core.models import AuditLog
from sales.models import Payment
from sales.selectors import customer_balance
from sales.services import payment_record, payment_reverse, sale_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def owing(credit_customer, loaded_vehicle, products, manager):
    """Two credit sales of 3000; a cheque of 4500 settled the first and half the second."""
    sales = [
        sale_post(
            customer=credit_customer,
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[{"product": products["12.7KG"], "quantity": 1}],
        )
        for _ in range(2)
    ]
    payment = payment_record(
        customer=credit_customer,
        amount="4500.00",
        actor=manager,
        method="CHEQUE",
        reference="CHQ 7781",
    )
    return {"sales": sales, "payment": payment}


def test_the_payment_page_offers_the_reversal(client, manager, owing):
    client.force_login(manager)
    url = reverse("admin:sales_payment_change", args=[owing["payment"].pk])
    page = client.get(url).content.decode()
    assert reverse("admin:sales_payment_reverse", args=[owing["payment"].pk]) in page
    assert "Reverse this payment" in page


def test_reverse_from_the_payment_page_previews_what_becomes_unpaid_then_posts_once(
    client, manager, owing, credit_customer
):
    payment, (a, b) = owing["payment"], owing["sales"]
    client.force_login(manager)
    url = reverse("admin:sales_payment_reverse", args=[payment.pk])
    entry = client.get(url)
    assert entry.status_code == 200
    assert payment.number in entry.content.decode()

    data = {"payments": str(payment.pk), "reason": "Cheque returned unpaid"}
    preview = client.post(url, {**data, "_preview": "1"})
    assert preview.context["stage"] == "confirm", preview.context["form"].errors
    lines = preview.context["preview_lines"]
    assert lines[0].startswith(f"Reverse {payment.number}: 4,500.00 (Cheque, CHQ 7781)")
    assert f"{a.number} becomes unpaid again: 3,000.00 taken back, 3,000.00 due." in lines
    assert f"{b.number} becomes unpaid again: 1,500.00 taken back, 3,000.00 due." in lines
    assert f"Balance of {credit_customer.code}: 1,500.00 -> 6,000.00 owed." in lines
    assert lines[-1] == "Reason: Cheque returned unpaid"
    payment.refresh_from_db()
    assert not payment.is_reversed  # the preview wrote nothing

    confirm = {**data, "_confirm": "1", "_token": preview.context["token"]}
    response = client.post(url, confirm)
    assert response.status_code == 302
    assert response.url == reverse("admin:sales_payment_change", args=[payment.pk])
    payment.refresh_from_db()
    assert payment.is_reversed
    assert payment.reversal_reason == "Cheque returned unpaid"
    assert customer_balance(customer=credit_customer) == Decimal("6000.00")

    again = client.post(url, confirm)  # a second click, or the page sent again
    assert "already posted" in str(again.context["form"].non_field_errors())
    assert AuditLog.objects.filter(action="payment_reverse").count() == 1

    page = client.get(reverse("admin:sales_payment_change", args=[payment.pk])).content.decode()
    assert "Reverse this payment" not in page
    assert "by northmanager: Cheque returned unpaid" in page


def test_a_reason_is_asked_for(client, manager, owing):
    client.force_login(manager)
    payment = owing["payment"]
    url = reverse("admin:sales_payment_reverse", args=[payment.pk])
    response = client.post(url, {"payments": str(payment.pk), "reason": "  ", "_preview": "1"})
    assert response.context["stage"] == "entry"
    assert response.context["form"].errors["reason"]


def test_an_already_reversed_payment_is_refused_on_the_form(client, manager, owing, head_office):
    payment = owing["payment"]
    payment_reverse(payment=payment, actor=head_office, reason="Bounced")
    client.force_login(manager)
    url = reverse("admin:sales_payment_reverse", args=[payment.pk])
    response = client.post(url, {"payments": str(payment.pk), "reason": "Again", "_preview": "1"})
    assert response.context["stage"] == "entry"
    assert "already reversed" in str(response.context["form"].non_field_errors())


def test_the_list_action_reverses_several_payments_together(
    client, head_office, owing, credit_customer, manager
):
    second = payment_record(customer=credit_customer, amount="100.00", actor=manager)
    first = owing["payment"]
    client.force_login(head_office)
    changelist = reverse("admin:sales_payment_changelist")
    response = client.post(
        changelist,
        {"action": "reverse_selected", ACTION_CHECKBOX_NAME: [first.pk, second.pk]},
    )
    assert response.status_code == 302
    url = response.url
    assert url.startswith(reverse("admin:sales_payment_reverse_selected"))

    entry = client.get(url)
    assert first.number in entry.content.decode()
    assert second.number in entry.content.decode()
    data = {"payments": f"{first.pk},{second.pk}", "reason": "Entered on the wrong account"}
    preview = client.post(url, {**data, "_preview": "1"})
    assert preview.context["stage"] == "confirm", preview.context["form"].errors
    lines = preview.context["preview_lines"]
    assert any(line.startswith(f"Reverse {first.number}") for line in lines)
    assert any(line.startswith(f"Reverse {second.number}") for line in lines)
    response = client.post(url, {**data, "_confirm": "1", "_token": preview.context["token"]})
    assert response.status_code == 302
    assert Payment.objects.filter(reversed_at__isnull=False).count() == 2
    assert customer_balance(customer=credit_customer) == Decimal("6000.00")


def test_the_list_action_with_one_payment_goes_to_its_reversal_page(client, manager, owing):
    client.force_login(manager)
    response = client.post(
        reverse("admin:sales_payment_changelist"),
        {"action": "reverse_selected", ACTION_CHECKBOX_NAME: [owing["payment"].pk]},
    )
    assert response.url == reverse("admin:sales_payment_reverse", args=[owing["payment"].pk])


def test_the_list_shows_and_filters_the_reversal_state(client, manager, owing, head_office):
    payment_reverse(payment=owing["payment"], actor=head_office, reason="Bounced")
    client.force_login(manager)
    changelist = reverse("admin:sales_payment_changelist")
    page = client.get(changelist).content.decode()
    assert "by headoffice" in page
    assert owing["payment"].number not in client.get(changelist + "?reversed=0").content.decode()
    assert owing["payment"].number in client.get(changelist + "?reversed=1").content.decode()


def test_a_manager_of_another_depot_cannot_reach_the_payment(client, owing, user_factory, south):
    other = user_factory("MANAGER", depots=[south])
    client.force_login(other)
    url = reverse("admin:sales_payment_reverse", args=[owing["payment"].pk])
    assert client.get(url).status_code == 404
    tampered = reverse("admin:sales_payment_reverse_selected")
    response = client.post(
        tampered, {"payments": str(owing["payment"].pk), "reason": "x", "_preview": "1"}
    )
    assert response.context["form"].errors["payments"]
    owing["payment"].refresh_from_db()
    assert not owing["payment"].is_reversed


@pytest.mark.parametrize("ids", ["abc", "1,x", "", "\u0661"])
def test_nonsense_ids_are_a_form_error_not_a_500(client, manager, owing, ids):
    client.force_login(manager)
    url = reverse("admin:sales_payment_reverse_selected")
    assert client.get(url, {"payments": ids}).status_code == 200
    response = client.post(url, {"payments": ids, "reason": "x", "_preview": "1"})
    assert response.status_code == 200
    assert response.context["form"].errors["payments"]
