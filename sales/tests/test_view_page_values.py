"""Issue 18: view-only admin pages show money with separators and the CURRENCY, and a
rate version's own moment, never raw decimals or "None"."""

from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse

from sales import services
from sales.models import Rate

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lkr")]


@pytest.fixture
def lkr():
    with override_settings(CURRENCY="LKR"):
        yield


def _page(client, user, url) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_rate_page_shows_money(client, head_office, customer_factory, products):
    customer = customer_factory(rates={"12.7KG": "15586.00"})
    rate = Rate.objects.get(customer=customer, product=products["12.7KG"])
    page = _page(client, head_office, reverse("admin:sales_rate_change", args=[rate.pk]))
    assert "LKR 15,586.00" in page
    assert "15586.00" not in page


def test_deposit_and_tax_rate_pages_show_money_and_the_moment(client, head_office, products):
    deposit = services.deposit_set(
        product=products["9KG"], amount=Decimal("1500.00"), effective_from=None, actor=head_office
    )
    url = reverse("admin:sales_depositrate_change", args=[deposit.pk])
    page = _page(client, head_office, url)
    assert "LKR 1,500.00" in page
    assert "1500.00" not in page
    assert "Effective from" in page
    assert "None" not in page
    tax = services.tax_rate_set(rate=Decimal("18.00"), effective_from=None, actor=head_office)
    page = _page(client, head_office, reverse("admin:sales_taxrate_change", args=[tax.pk]))
    assert "Effective from" in page
    assert "None" not in page


def test_customer_page_as_manager_shows_limit_and_reading(client, manager, customer_factory):
    customer = customer_factory(
        "CREDIT", credit_limit=Decimal("750000.00"), last_meter_reading=Decimal("2486.00")
    )
    page = _page(client, manager, reverse("admin:sales_customer_change", args=[customer.pk]))
    assert "LKR 750,000.00" in page
    assert "750000.00" not in page
    assert "2,486.00" in page
    assert "2486.00" not in page


def test_product_page_as_manager_shows_the_list_price(client, manager, products):
    product = products["12.7KG"]
    product.list_price = Decimal("2850.00")
    product.save()
    page = _page(client, manager, reverse("admin:stock_product_change", args=[product.pk]))
    assert "LKR 2,850.00" in page
    assert "2850.00" not in page


def test_the_payment_reverse_page_shows_money_and_the_day(
    client, manager, credit_customer, loaded_vehicle, products
):
    from core.display import day
    from sales.services import payment_record, sale_post

    for _ in range(5):
        sale_post(
            customer=credit_customer,
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[{"product": products["12.7KG"], "quantity": 1}],
        )
    payment = payment_record(
        customer=credit_customer, amount="12500.00", actor=manager, method="CASH"
    )
    page = _page(client, manager, reverse("admin:sales_payment_reverse", args=[payment.pk]))
    table = page.split('id="payments-to-reverse"')[1].split("</table>")[0]
    assert table.count("LKR 12,500.00") == 2  # the amount and what it settles
    assert "12500.00" not in table
    assert day(payment.received_on) in table
    assert payment.received_on.isoformat() not in table


def test_the_rate_table_says_the_currency_and_names_service_columns(
    client, head_office, customer_factory
):
    from stock.models import ProductKind
    from stock.services import product_create

    product_create(
        code="INSTALL",
        name="Installation",
        kind=ProductKind.SERVICE,
        actor=head_office,
        list_price="1500.00",
    )
    customer_factory()
    page = _page(client, head_office, reverse("admin:sales_ratetable_changelist"))
    assert "Amounts in LKR." in page
    assert "Installation rate" in page
    assert ">INSTALL<" not in page
