"""What the sales screens and services say is for a clerk: how to write a number the
form refused, money with thousands separators, the rate table's own column headings and
the spreadsheet's own row numbers, and a date that does not exist called that."""

from decimal import Decimal

import pytest
import tablib
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sales.models import Payment
from sales.resources import COLUMNS, RateTableResource, import_problems
from sales.services import payment_record, sale_post

pytestmark = pytest.mark.django_db

HOW_TO_WRITE_AN_AMOUNT = (
    "Enter a number: digits with an optional decimal point, such as 1234.50, without "
    "thousands separators or an exponent."
)


# --- Numbers on the admin forms ----------------------------------------------------------


@pytest.mark.parametrize("amount", ["1,000", "1e2", "1 000", "\u0661\u0660"])
def test_the_payment_form_says_how_to_write_the_amount(client, manager, credit_customer, amount):
    client.force_login(manager)
    response = client.post(
        reverse("admin:sales_payment_add"),
        {"customer": credit_customer.pk, "amount": amount, "method": "CASH", "_preview": "1"},
    )
    assert response.context["form"].errors["amount"] == [HOW_TO_WRITE_AN_AMOUNT]


def test_the_api_explains_it_the_same_way(credit_customer, loaded_vehicle):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(loaded_vehicle)
    response = api.post(
        "/api/payments/", {"customer": credit_customer.code, "amount": "1,000"}, format="json"
    )
    (message,) = response.json()["error"]["fields"]["amount"]
    assert HOW_TO_WRITE_AN_AMOUNT.removeprefix("Enter a number: ").rstrip(".") in message


@pytest.mark.parametrize("quantity", ["1.0", "1,000", "1e0"])
def test_the_distribution_form_says_how_to_write_a_count(
    client, manager, sales_rep, products, quantity
):
    client.force_login(manager)
    response = client.post(
        reverse("admin:stock_distribution_add"),
        {
            "kind": "COLLECTION",
            "sales_rep": sales_rep.pk,
            "product": products["12.7KG"].pk,
            "quantity": quantity,
            "_preview": "1",
        },
    )
    assert response.context["form"].errors["quantity"] == [
        "Enter a whole number: digits only, such as 12, without a decimal point, thousands "
        "separators or an exponent."
    ]


def test_a_5000_digit_amount_on_the_form_is_too_large(client, manager, credit_customer):
    client.force_login(manager)
    response = client.post(
        reverse("admin:sales_payment_add"),
        {"customer": credit_customer.pk, "amount": "9" * 5000, "method": "CASH", "_preview": "1"},
    )
    (message,) = response.context["form"].errors["amount"]
    assert message.startswith("Ensure this value is less than or equal to")


# --- Money in refusals -------------------------------------------------------------------


def test_the_payment_ceiling_shows_money_with_separators(credit_customer, manager, settings):
    settings.PAYMENT_MAX_AMOUNT = Decimal("10000000.00")
    with pytest.raises(ValidationError) as exc:
        payment_record(customer=credit_customer, amount="150000000.00", actor=manager)
    assert exc.value.message_dict["amount"] == [
        "A payment of 150,000,000.00 is above the most one payment may be (10,000,000.00); "
        "check the amount."
    ]
    assert Payment.objects.count() == 0


def test_the_credit_limit_shows_money_with_separators(customer_factory, loaded_vehicle, products):
    customer = customer_factory("CREDIT", credit_limit=Decimal("5000.00"))
    with pytest.raises(ValidationError) as exc:
        sale_post(
            customer=customer,
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[{"product": products["12.7KG"], "quantity": 2}],
        )
    assert exc.value.message_dict["customer"] == [
        f"This sale (6,000.00) would take customer {customer.code} to 6,000.00, "
        "over the credit limit of 5,000.00."
    ]


# --- The rate table: its headings and the spreadsheet's row numbers -----------------------


@pytest.fixture
def importer(head_office, products):
    def run(*rows):
        return RateTableResource().import_data(
            tablib.Dataset(*rows, headers=COLUMNS),
            use_transactions=True,
            user=head_office,
            file_name="rates.csv",
        )

    return run


def test_a_bad_cell_names_its_heading_and_spreadsheet_row(importer, customer_factory):
    a, b = customer_factory(), customer_factory()
    result = importer(
        [a.code, a.name, "", "2300", "", "", "", "", ""],  # spreadsheet row 2
        [b.code, b.name, "x", "1e3", "", "", "", "", "2026-02-30"],  # row 3
    )
    [invalid] = result.invalid_rows
    assert invalid.number == 3
    assert set(invalid.field_specific_errors) == {"meter rate", "9 kg rate", "effective from"}
    problems = import_problems(result)
    assert "Row 3, column '9 kg rate': Enter an amount such as 1234.50; got '1e3'." in problems
    assert not any("rate_" in p or "rates_effective_from" in p for p in problems)


def test_an_unknown_customer_names_the_code_column_and_its_row(importer, customer_factory):
    a = customer_factory()
    result = importer(
        [a.code, a.name, "", "2300", "", "", "", "", ""],
        ["C999", "Nobody", "", "2300", "", "", "", "", ""],
    )
    problems = import_problems(result)
    assert problems == [
        "Row 3, column 'customer code': Unknown customer 'C999': create the customer "
        "before importing rates."
    ]


def test_row_numbers_agree_with_the_duplicate_customer_message(
    client, head_office, customer_factory
):
    """Both count as the spreadsheet does: the heading is row 1."""
    a, b = customer_factory(), customer_factory()
    client.force_login(head_office)
    rows = [
        ",".join(COLUMNS),
        f"{a.code},x,,2300,,,,,",
        f"{b.code},x,,abc,,,,,",
    ]
    file = SimpleUploadedFile("rates.csv", "\n".join(rows).encode(), content_type="text/csv")
    response = client.post(
        reverse("admin:sales_ratetable_import"), {"resource": 0, "format": 0, "import_file": file}
    )
    body = response.content.decode()
    assert "rate_9KG" not in body
    [invalid] = response.context["result"].invalid_rows
    assert invalid.number == 3
    assert list(invalid.field_specific_errors) == ["9 kg rate"]


def test_a_date_that_does_not_exist_is_called_that(importer, customer_factory):
    a = customer_factory()
    result = importer([a.code, a.name, "", "2300", "", "", "", "", "29/02/2027"])
    [invalid] = result.invalid_rows
    assert invalid.field_specific_errors["effective from"] == [
        "The date 29/02/2027 does not exist: February 2027 has 28 days."
    ]


def test_the_set_rates_form_says_a_date_does_not_exist(
    client, head_office, cash_customer, products
):
    client.force_login(head_office)
    response = client.post(
        reverse("admin:sales_customer_rates", args=[cash_customer.pk]),
        {
            "effective_from": "2027-02-29",
            f"rate_{products['9KG'].pk}": "2450.00",
            "_preview": "1",
        },
    )
    assert response.context["form"].errors["effective_from"] == [
        "The date 2027-02-29 does not exist: February 2027 has 28 days."
    ]
