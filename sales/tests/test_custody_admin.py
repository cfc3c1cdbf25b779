"""The cylinder-return screen (record one with a preview, its read-only page), the
customer page's cylinders held panel and head office's count of them, and the read-only
lists of holdings and their ledger."""

from decimal import Decimal

import pytest
from django.urls import reverse

from sales.models import CylinderReturn, HoldingEntry
from sales.selectors import cylinders_held, deposit_held
from stock.selectors import stock_on_hand

pytestmark = pytest.mark.django_db

D = Decimal


def preview_and_confirm(client, url, data):
    preview = client.post(url, {**data, "_preview": "1"})
    assert preview.context["stage"] == "confirm", preview.context["form"].errors
    response = client.post(url, {**data, "_confirm": "1", "_token": preview.context["token"]})
    return preview, response


@pytest.fixture
def holder(head_office, loaded_vehicle, customer_factory, products):
    """A credit customer holding 3 12.7KG cylinders with 7,500.00 paid on them."""
    from sales.services import deposit_set, sale_post

    deposit_set(product=products["12.7KG"], amount=D("2500.00"), actor=head_office)
    customer = customer_factory("CREDIT", credit_limit=D("100000.00"))
    sale_post(
        customer=customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 3, "empties_returned": 0}],
    )
    return customer


def test_a_manager_records_a_return_after_its_preview(
    client, manager, holder, loaded_vehicle, products
):
    cylinder = products["12.7KG"]
    client.force_login(manager)
    data = {"customer": holder.pk, "sales_rep": loaded_vehicle.pk, f"qty_{cylinder.pk}": 2}
    preview, response = preview_and_confirm(client, reverse("admin:sales_cylinderreturn_add"), data)
    lines = preview.context["preview_lines"]
    assert "2 x 12.7KG: deposit refunded 5,000.00." in lines
    assert "5,000.00 deposit refunded, credited to the customer's account." in lines
    assert any("-> " in line and "Balance of" in line for line in lines)
    returned = CylinderReturn.objects.get()
    assert response.url == reverse("admin:sales_cylinderreturn_change", args=[returned.pk])
    assert (returned.created_by, returned.refund_amount) == (manager, D("5000.00"))
    assert cylinders_held(customer=holder, product=cylinder) == 1
    assert stock_on_hand(product=cylinder, state="EMPTY", sales_rep=loaded_vehicle) == 2

    page = client.get(response.url)
    assert page.status_code == 200
    content = page.content.decode()
    assert returned.number in content
    assert "5,000.00 deposit refunded, credited to the customer" in content
    assert reverse("billing:cylinder_return_pdf", args=[returned.pk]) in content
    pdf = client.get(reverse("billing:cylinder_return_pdf", args=[returned.pk]))
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    listed = client.get(reverse("admin:sales_cylinderreturn_changelist"))
    assert returned.number in listed.content.decode()


def test_a_return_of_more_than_held_shows_on_its_products_field(
    client, manager, holder, loaded_vehicle, products
):
    cylinder = products["12.7KG"]
    client.force_login(manager)
    response = client.post(
        reverse("admin:sales_cylinderreturn_add"),
        {
            "customer": holder.pk,
            "sales_rep": loaded_vehicle.pk,
            f"qty_{cylinder.pk}": 5,
            "_preview": "1",
        },
    )
    assert response.context["stage"] == "entry"
    errors = response.context["form"].errors
    assert "holds 3" in " ".join(errors[f"qty_{cylinder.pk}"])
    assert not CylinderReturn.objects.exists()


def test_an_empty_return_is_a_form_error(client, manager, holder, loaded_vehicle):
    client.force_login(manager)
    response = client.post(
        reverse("admin:sales_cylinderreturn_add"),
        {"customer": holder.pk, "sales_rep": loaded_vehicle.pk, "_preview": "1"},
    )
    assert response.context["stage"] == "entry"
    assert "at least one product" in " ".join(response.context["form"].non_field_errors())


def test_another_depots_manager_sees_no_return(
    client, holder, loaded_vehicle, products, user_factory, south
):
    from sales.services import cylinder_return

    returned = cylinder_return(
        customer=holder,
        sales_rep=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 1}],
        actor=loaded_vehicle,
    )
    client.force_login(user_factory("MANAGER", depots=[south], username="southboss"))
    listed = client.get(reverse("admin:sales_cylinderreturn_changelist"))
    assert returned.number not in listed.content.decode()
    page = client.get(reverse("admin:sales_cylinderreturn_change", args=[returned.pk]))
    assert page.status_code in (302, 404)
    pdf = client.get(reverse("billing:cylinder_return_pdf", args=[returned.pk]))
    assert pdf.status_code == 404


def test_the_customer_page_shows_cylinders_and_deposit_held(
    client, manager, head_office, holder, products
):
    url = reverse("admin:sales_customer_change", args=[holder.pk])
    ledger = f"{reverse('admin:sales_holdingentry_changelist')}?customer__id__exact={holder.pk}"
    adjust = reverse("admin:sales_customer_holdings_adjust", args=[holder.pk])
    client.force_login(manager)
    content = client.get(url).content.decode()
    assert "Cylinders held" in content
    assert "<td>12.7 kg cylinder (12.7KG)</td><td>3</td><td>7,500.00</td>" in content
    assert "Deposit held in all: 7,500.00" in content
    assert ledger.replace("&", "&amp;") in content or ledger in content
    assert adjust not in content  # counts are head office's
    client.force_login(head_office)
    assert adjust in client.get(url).content.decode()
    entries = client.get(ledger)
    assert entries.status_code == 200
    assert len(entries.context["cl"].result_list) == 1
    holdings = client.get(reverse("admin:sales_cylinderholding_changelist"))
    assert holder.name in holdings.content.decode()


def test_head_office_sets_the_cylinders_held_by_a_count(client, head_office, holder, products):
    cylinder = products["12.7KG"]
    client.force_login(head_office)
    url = reverse("admin:sales_customer_holdings_adjust", args=[holder.pk])
    preview, response = preview_and_confirm(
        client, url, {"product": cylinder.pk, "counted": 5, "reason": "Site visit"}
    )
    lines = preview.context["preview_lines"]
    assert f"{holder}: 12.7KG cylinders held 3 -> 5." in lines
    assert "Reason: Site visit" in lines
    assert response.url == reverse("admin:sales_customer_change", args=[holder.pk])
    assert cylinders_held(customer=holder, product=cylinder) == 5
    assert deposit_held(customer=holder, product=cylinder) == D("7500.00")  # no money moves
    entry = HoldingEntry.objects.filter(customer=holder).order_by("-id").first()
    assert (entry.kind, entry.quantity) == ("ADJUSTMENT", 2)


def test_a_count_without_a_reason_is_refused_and_a_manager_may_not_count(
    client, head_office, manager, holder, products
):
    cylinder = products["12.7KG"]
    url = reverse("admin:sales_customer_holdings_adjust", args=[holder.pk])
    client.force_login(head_office)
    response = client.post(
        url, {"product": cylinder.pk, "counted": 5, "reason": "  ", "_preview": "1"}
    )
    assert response.context["stage"] == "entry"
    assert "reason" in response.context["form"].errors
    client.force_login(manager)
    assert client.get(url).status_code == 403
    assert cylinders_held(customer=holder, product=cylinder) == 3


def test_a_customer_without_cylinders_shows_none_held(client, manager, customer_factory):
    customer = customer_factory("CASH")
    client.force_login(manager)
    content = client.get(reverse("admin:sales_customer_change", args=[customer.pk])).content
    assert b'<td colspan="4">None.</td>' in content
    assert b"Deposit held in all: 0.00" in content


def test_the_return_forms_customer_field_finds_customers_by_code(client, manager, holder):
    client.force_login(manager)
    response = client.get(
        "/admin/autocomplete/",
        {
            "app_label": "sales",
            "model_name": "cylinderreturn",
            "field_name": "customer",
            "term": holder.code,
        },
    )
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(holder.pk)]
