"""The cash-up screens: the list (money with separators and the currency, shortfalls
highlighted, managers see their depots'), the read-only page with its Confirm button,
confirming (a note over the tolerance), and a manager's new cash-up previewing the
expected figures before it posts."""

from decimal import Decimal

import pytest
from django.urls import reverse

from sales.day_models import CashUp
from sales.services import cashup_confirm, cashup_post, sale_post

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture(autouse=True)
def _currency(settings):
    settings.CURRENCY = "LKR"


@pytest.fixture
def short(loaded_vehicle, cash_customer, products):
    """northrep sold 4 cylinders for 12,000.00 cash and counted 11,900.00."""
    sale_post(
        customer=cash_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 4}],
    )
    return cashup_post(sales_rep=loaded_vehicle, counted_cash="11900", actor=loaded_vehicle)


def preview_and_confirm(client, url, data):
    preview = client.post(url, {**data, "_preview": "1"})
    assert preview.status_code == 200
    assert preview.context["stage"] == "confirm", preview.context["form"].errors
    response = client.post(url, {**data, "_confirm": "1", "_token": preview.context["token"]})
    return preview, response


def test_the_list_shows_money_and_highlights_shortfalls(client, manager, short):
    client.force_login(manager)
    response = client.get(reverse("admin:sales_cashup_changelist"))
    assert response.status_code == 200
    text = response.content.decode()
    assert short.number in text
    assert "LKR 12,000.00" in text
    assert "LKR 11,900.00" in text
    assert 'class="hsh-short"' in text
    assert "Short by LKR 100.00" in text


def test_a_manager_sees_only_their_depots_cash_ups(client, short, user_factory, south):
    client.force_login(user_factory("MANAGER", depots=[south]))
    response = client.get(reverse("admin:sales_cashup_changelist"))
    assert short.number not in response.content.decode()
    page = client.get(reverse("admin:sales_cashup_change", args=[short.pk]))
    assert page.status_code == 302  # not among theirs: back to the list
    assert client.get(reverse("admin:sales_cashup_confirm", args=[short.pk])).status_code == 404


def test_the_page_reads_as_words_with_a_confirm_button(client, manager, short):
    client.force_login(manager)
    response = client.get(reverse("admin:sales_cashup_change", args=[short.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "From their first document to" in text
    assert "Cash sales (less voids)" in text
    assert "LKR 12,000.00" in text
    assert "Short by LKR 100.00" in text
    assert reverse("admin:sales_cashup_confirm", args=[short.pk]) in text
    cashup_confirm(cashup=short, actor=manager, note="paid in")
    after = client.get(reverse("admin:sales_cashup_change", args=[short.pk])).content.decode()
    assert reverse("admin:sales_cashup_confirm", args=[short.pk]) not in after
    assert "paid in" in after


def test_confirming_over_the_tolerance_asks_for_a_note(client, manager, short):
    client.force_login(manager)
    url = reverse("admin:sales_cashup_confirm", args=[short.pk])
    page = client.get(url)
    assert "short by lkr 100.00" in page.content.decode().lower()
    refused = client.post(url, {"note": "", "_preview": "1"})
    assert refused.context["stage"] == "entry"
    assert "say what was done about it" in str(refused.context["form"].errors["note"])
    preview, response = preview_and_confirm(client, url, {"note": "100.00 paid in next day"})
    assert any("Short by LKR 100.00" in line for line in preview.context["preview_lines"])
    assert response.status_code == 302
    short.refresh_from_db()
    assert (short.status, short.confirmed_by, short.confirm_note) == (
        "CONFIRMED",
        manager,
        "100.00 paid in next day",
    )


def test_a_manager_posts_a_cash_up_for_a_representative_after_its_preview(
    client, manager, loaded_vehicle, cash_customer, products
):
    sale_post(
        customer=cash_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 2}],
    )
    client.force_login(manager)
    url = reverse("admin:sales_cashup_add")
    form = client.get(url)
    assert form.status_code == 200
    data = {"sales_rep": loaded_vehicle.pk, "counted_cash": "6000.00", "note": ""}
    preview, response = preview_and_confirm(client, url, data)
    lines = preview.context["preview_lines"]
    assert "Cash sales (less voids): LKR 6,000.00." in lines
    assert "Expected: LKR 6,000.00; counted: LKR 6,000.00." in lines
    assert "Exact." in lines
    assert response.status_code == 302
    assert CashUp.objects.count() == 1  # the preview wrote nothing
    cashup = CashUp.objects.get()
    assert (cashup.sales_rep, cashup.created_by, cashup.expected_cash, cashup.variance) == (
        loaded_vehicle,
        manager,
        D("6000.00"),
        D("0.00"),
    )


def test_the_new_cash_up_form_refuses_a_negative_count(client, manager, loaded_vehicle):
    client.force_login(manager)
    response = client.post(
        reverse("admin:sales_cashup_add"),
        {"sales_rep": loaded_vehicle.pk, "counted_cash": "-5", "_preview": "1"},
    )
    assert response.context["stage"] == "entry"
    assert "counted_cash" in response.context["form"].errors
    assert not CashUp.objects.exists()
