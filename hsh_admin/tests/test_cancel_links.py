"""Every admin form a clerk submits has a Cancel link back to its list: Django's own forms
(templates/admin/submit_line.html), the preview-then-confirm forms at both steps
(hsh_confirm_form.html) and the rate import. A read-only page keeps Django's Close."""

import re

import pytest

pytestmark = pytest.mark.django_db

CANCEL = re.compile(r'<a href="([^"]*)" class="cancel-link">Cancel</a>')


@pytest.fixture
def clerk(client, head_office):
    client.force_login(head_office)
    return client


@pytest.mark.parametrize(
    ("form", "back_to"),
    [
        ("/admin/sales/customer/add/", "/admin/sales/customer/"),
        ("/admin/core/user/add/", "/admin/core/user/"),
        ("/admin/sales/transaction/add/", "/admin/sales/transaction/"),
        ("/admin/sales/payment/add/", "/admin/sales/payment/"),
        ("/admin/stock/stockcount/add/?depot={depot}", "/admin/stock/stockcount/"),
        ("/admin/sales/ratetable/import/", "/admin/sales/ratetable/"),
    ],
)
def test_a_form_has_a_cancel_link_to_its_list(clerk, products, north, form, back_to):
    page = clerk.get(form.format(depot=north.pk))
    assert page.status_code == 200
    links = CANCEL.findall(page.content.decode())
    assert links, f"no Cancel on {form}"
    assert links[0].split("?")[0] == back_to


def test_an_object_page_cancels_to_its_list_with_its_filters(clerk, customer_factory):
    customer = customer_factory()
    url = f"/admin/sales/customer/{customer.pk}/change/"
    filters = "_changelist_filters=depot__id__exact%3D1"
    page = clerk.get(f"{url}?{filters}").content.decode()
    assert CANCEL.findall(page) == ["/admin/sales/customer/?depot__id__exact=1"]


def test_the_confirm_step_has_cancel_too(clerk, customer_factory, loaded_vehicle, products):
    customer = customer_factory()
    page = clerk.post(
        "/admin/sales/transaction/add/",
        {
            "customer": customer.pk,
            "sales_rep": loaded_vehicle.pk,
            "payment_type": "CASH",
            f"qty_{products['12.7KG'].pk}": "1",
            "_preview": "Preview",
        },
    ).content.decode()
    assert "Confirm and post" in page
    assert CANCEL.findall(page) == ["/admin/sales/transaction/"]


def test_a_read_only_page_keeps_close_not_cancel(clerk, customer_factory, loaded_vehicle, products):
    from sales.services import sale_post, sale_void

    sale = sale_post(
        customer=customer_factory(),
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 1}],
    )
    sale_void(transaction=sale, actor=loaded_vehicle, reason="keyed twice")
    note = sale.credit_note
    page = clerk.get(f"/admin/sales/creditnote/{note.pk}/change/").content.decode()
    assert not CANCEL.findall(page)
