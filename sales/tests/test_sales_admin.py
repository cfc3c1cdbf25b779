"""The sales screens: entry forms that preview through the services, read-only documents."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sales.models import Customer, Payment, Rate, RateImport, Transaction
from sales.resources import COLUMNS
from sales.selectors import rate_in_force
from sales.services import sale_post
from stock.selectors import stock_on_hand

pytestmark = pytest.mark.django_db


def preview_and_confirm(client, url, data, **kwargs):
    preview = client.post(url, {**data, "_preview": "1"})
    assert preview.context["stage"] == "confirm", preview.context["form"].errors
    response = client.post(
        url, {**data, "_confirm": "1", "_token": preview.context["token"]}, **kwargs
    )
    return preview, response


@pytest.fixture
def sale_data(cash_customer, loaded_vehicle, products):
    cyl = products["12.7KG"]
    return {
        "customer": cash_customer.pk,
        "sales_rep": loaded_vehicle.pk,
        f"qty_{cyl.pk}": 2,
        f"empties_{cyl.pk}": 1,
    }


def test_sale_form_previews_rates_and_total_then_posts(
    client, manager, sale_data, loaded_vehicle, products
):
    client.force_login(manager)
    preview, response = preview_and_confirm(
        client, reverse("admin:sales_transaction_add"), sale_data
    )
    lines = preview.context["preview_lines"]
    assert "2 x 12.7KG at 3,000.00 = 6,000.00 (1 empties received)" in lines
    assert "Total: 6,000.00" in lines
    assert "Cash sale: paid now." in lines
    sale = Transaction.objects.get()
    assert response.url == reverse("admin:sales_transaction_change", args=[sale.pk])
    assert (sale.created_by, sale.total_amount) == (manager, Decimal("6000.00"))
    assert stock_on_hand(product=products["12.7KG"], sales_rep=loaded_vehicle) == 18


def test_sale_preview_shows_a_refusal_and_numbers_stay_gapless(
    client, manager, sale_data, products
):
    client.force_login(manager)
    cyl = products["12.7KG"]
    response = client.post(
        reverse("admin:sales_transaction_add"), {**sale_data, f"qty_{cyl.pk}": 50, "_preview": "1"}
    )
    assert (
        "Only 20 full 12.7KG cylinders on vehicle" in response.context["form"].non_field_errors()[0]
    )
    preview_and_confirm(client, reverse("admin:sales_transaction_add"), sale_data)
    assert Transaction.objects.get().number.endswith("-000001")


def test_credit_sale_preview_shows_the_balance(
    client, head_office, credit_customer, loaded_vehicle, products
):
    client.force_login(head_office)
    cyl = products["12.7KG"]
    data = {"customer": credit_customer.pk, "sales_rep": loaded_vehicle.pk, f"qty_{cyl.pk}": 1}
    preview = client.post(reverse("admin:sales_transaction_add"), {**data, "_preview": "1"})
    expected = "Credit sale: balance 0.00 -> 3,000.00 (limit 20,000.00)."
    assert expected in preview.context["preview_lines"]
    assert Transaction.objects.count() == 0


def test_void_from_the_sale_page(client, manager, cash_customer, loaded_vehicle, products):
    sale = sale_post(
        customer=cash_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["9KG"], "quantity": 2}],
    )
    client.force_login(manager)
    page = client.get(reverse("admin:sales_transaction_change", args=[sale.pk]))
    assert b"Void this sale" in page.content
    preview, _ = preview_and_confirm(
        client, reverse("admin:sales_transaction_void", args=[sale.pk]), {"reason": "mistake"}
    )
    assert "2 full 9KG back on the vehicle; 2 empties off it." in preview.context["preview_lines"]
    sale.refresh_from_db()
    assert (sale.status, sale.void_reason) == ("VOID", "mistake")
    page = client.get(reverse("admin:sales_transaction_change", args=[sale.pk]))
    assert b"Void this sale" not in page.content


def test_void_action_on_several_sales_asks_for_a_reason(
    client, manager, cash_customer, loaded_vehicle, products
):
    sales = [
        sale_post(
            customer=cash_customer,
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[{"product": products["9KG"], "quantity": 1}],
        )
        for _ in range(2)
    ]
    client.force_login(manager)
    url = reverse("admin:sales_transaction_changelist")
    ids = [s.pk for s in sales]
    ask = client.post(url, {"action": "void_selected", "_selected_action": ids})
    assert ask.status_code == 200
    assert b"Reason:" in ask.content
    assert Transaction.objects.filter(status="VOID").count() == 0
    client.post(url, {"action": "void_selected", "_selected_action": ids, "reason": "test"})
    assert Transaction.objects.filter(status="VOID").count() == 2


def test_payment_form_shows_what_it_settles(
    client, manager, credit_customer, loaded_vehicle, products
):
    sale = sale_post(
        customer=credit_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 1}],
    )
    client.force_login(manager)
    data = {
        "customer": credit_customer.pk,
        "amount": "5000.00",
        "method": "CASH",
        "reference": "R-1",
    }
    preview, _ = preview_and_confirm(client, reverse("admin:sales_payment_add"), data)
    lines = preview.context["preview_lines"]
    assert f"Settles {sale.number}: 3,000.00 (paid in full)." in lines
    assert "2,000.00 stays on account for later sales." in lines
    assert "Balance: 3,000.00 -> -2,000.00." in lines
    assert Payment.objects.get().received_by == manager


def test_customer_page_shows_rates_balance_and_unpaid_sales(
    client, head_office, credit_customer, loaded_vehicle, products
):
    sale = sale_post(
        customer=credit_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 1}],
    )
    client.force_login(head_office)
    page = client.get(reverse("admin:sales_customer_change", args=[credit_customer.pk]))
    body = page.content.decode()
    assert "3,000.00 owed of a 20,000.00 limit" in body
    assert sale.number in body
    assert "Set new rates" in body
    assert "2,200.00" in body
    assert "12.7 kg rate" in body


def test_set_rates_form(client, head_office, cash_customer, products):
    client.force_login(head_office)
    nine = products["9KG"]
    preview, _ = preview_and_confirm(
        client,
        reverse("admin:sales_customer_rates", args=[cash_customer.pk]),
        {f"rate_{nine.pk}": "2450.00"},
    )
    assert "9 kg rate (9KG): 2,200.00 -> 2,450.00" in preview.context["preview_lines"]
    assert rate_in_force(customer=cash_customer, product=nine) == Decimal("2450.00")


def test_manager_lists_only_their_depots_customers_and_sales(
    client, manager, customer_factory, south, loaded_vehicle, products
):
    mine = customer_factory()
    customer_factory(depot=south)
    sale_post(
        customer=mine,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["9KG"], "quantity": 1}],
    )
    client.force_login(manager)
    customers = client.get(reverse("admin:sales_customer_changelist")).context["cl"].result_list
    assert [c.code for c in customers] == [mine.code]
    autocomplete = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "sales", "model_name": "transaction", "field_name": "customer", "term": ""},
    )
    assert [r["id"] for r in autocomplete.json()["results"]] == [str(mine.pk)]


def test_rate_table_import_through_the_admin(client, head_office, two_customers_csv):
    client.force_login(head_office)
    url = reverse("admin:sales_ratetable_import")
    upload = SimpleUploadedFile("rates.csv", two_customers_csv, content_type="text/csv")
    dry = client.post(url, {"resource": 0, "format": 0, "import_file": upload})
    assert dry.status_code == 200
    assert Rate.objects.filter(batch__isnull=False).count() == 0
    confirm = dry.context["confirm_form"].initial
    done = client.post(reverse("admin:sales_ratetable_process_import"), confirm)
    assert done.status_code == 302
    batch = RateImport.objects.get()
    assert batch.created_by == head_office
    assert batch.rates.count() == 1


def test_a_bad_file_shows_errors_and_offers_no_confirm(client, head_office, cash_customer):
    client.force_login(head_office)
    data = ",".join(COLUMNS) + f"\n{cash_customer.code},x,,-1,,,,,\nC999,y,,1,,,,,\n"
    upload = SimpleUploadedFile("rates.csv", data.encode(), content_type="text/csv")
    response = client.post(
        reverse("admin:sales_ratetable_import"), {"resource": 0, "format": 0, "import_file": upload}
    )
    body = response.content.decode()
    assert "Must be 0 or more; got -1." in body
    assert "Unknown customer &#x27;C999&#x27;" in body
    assert response.context.get("confirm_form") is None


@pytest.fixture
def two_customers_csv(customer_factory):
    a, b = customer_factory(), customer_factory()
    return (
        ",".join(COLUMNS) + f"\n{a.code},{a.name},,2500,,,,,\n{b.code},{b.name},,,,,,,\n"
    ).encode()


def test_rate_table_export_csv(client, manager, customer_factory):
    customer_factory()
    client.force_login(manager)
    response = client.post(
        reverse("admin:sales_ratetable_export"),
        {
            "format": 0,
            "resource": 0,
            **{
                f"ratetableresource_{f}": "on"
                for f in [
                    "code",
                    "name",
                    "rate_BULK",
                    "rate_9KG",
                    "rate_12_7KG",
                    "rate_14KG",
                    "rate_50KG_POL",
                    "rate_50KG_L",
                    "effective_from",
                ]
            },
        },
    )
    assert response.status_code == 200
    lines = response.content.decode().splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert lines[1].startswith("C001,Customer 1,250.00,2200.00,3000.00")


def test_sale_search_by_number_customer_code_or_name(
    client, head_office, customer_factory, loaded_vehicle, products
):
    from sales.services import sale_post

    alice, bob = customer_factory(), customer_factory()
    Customer.objects.filter(pk=alice.pk).update(name="Alice Gas Traders")
    sales = {
        c.pk: sale_post(
            customer=c,
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[{"product": products["9KG"], "quantity": 1}],
        )
        for c in (alice, bob)
    }
    client.force_login(head_office)
    url = reverse("admin:sales_transaction_changelist")

    def found(term):
        return {t.pk for t in client.get(url, {"q": term}).context["cl"].result_list}

    assert found(sales[bob.pk].number.lower()) == {sales[bob.pk].pk}  # typed in lower case
    assert found(alice.code.lower()) == {sales[alice.pk].pk}
    assert found("gas trad") == {sales[alice.pk].pk}
    assert found("nobody") == set()


def test_bulk_void_takes_the_newest_meter_sale_first(client, manager, cash_customer, sales_rep):
    first = sale_post(
        customer=cash_customer, sales_rep=sales_rep, actor=sales_rep, meter_reading="10"
    )
    second = sale_post(
        customer=cash_customer, sales_rep=sales_rep, actor=sales_rep, meter_reading="20"
    )
    client.force_login(manager)
    client.post(
        reverse("admin:sales_transaction_changelist"),
        {
            "action": "void_selected",
            "_selected_action": [first.pk, second.pk],
            "reason": "meter misread",
        },
    )
    assert Transaction.objects.filter(status="VOID").count() == 2


def test_empties_without_a_quantity_is_a_form_error(
    client, manager, cash_customer, loaded_vehicle, products
):
    nine = products["9KG"]
    client.force_login(manager)
    response = client.post(
        reverse("admin:sales_transaction_add"),
        {
            "customer": cash_customer.pk,
            "sales_rep": loaded_vehicle.pk,
            f"empties_{nine.pk}": 2,
            "_preview": "1",
        },
    )
    assert "Enter the 9KG cylinders sold" in str(response.context["form"].errors)
