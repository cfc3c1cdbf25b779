"""Numbers are read strictly everywhere: plain decimal text and integers only.

"1e2", Arabic-Indic digits, JSON floats and "1.0" for a quantity are refused with a
message that names the field, by the services (decimal_value, whole_number), the field
API's serializer fields, the admin forms and the rate-table import alike.
"""

import string
from decimal import Decimal

import pytest
import tablib
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st
from rest_framework import serializers
from rest_framework.test import APIClient

from core.api import PlainDecimalField, PlainIntegerField
from core.numbers import PlainDecimalField as PlainDecimalFormField
from core.numbers import PlainIntegerField as PlainIntegerFormField
from sales.services.common import decimal_value
from stock.services import whole_number

PLAIN = r"-?[0-9]{1,9}(\.[0-9]{1,2})?"
WHOLE = r"-?[0-9]{1,6}"
OTHER_DIGITS = st.characters(categories=["Nd"]).filter(lambda c: c not in string.digits)


def exponent_texts():
    return st.from_regex(r"-?[0-9]{1,4}(\.[0-9]{1,2})?[eE][+-]?[0-9]{1,3}", fullmatch=True)


@st.composite
def foreign_digit_texts(draw):
    """A plain number with at least one digit of another script (Arabic-Indic, ...)."""
    text = draw(st.from_regex(PLAIN, fullmatch=True))
    positions = [i for i, c in enumerate(text) if c.isdigit()]
    index = draw(st.sampled_from(positions))
    return text[:index] + draw(OTHER_DIGITS) + text[index + 1 :]


NOT_PLAIN = st.one_of(
    st.floats(),
    st.booleans(),
    exponent_texts(),
    foreign_digit_texts(),
    st.sampled_from(["1,000", "+5", ".5", "5.", "1_000", "0x10", "NaN", "Infinity", "1 0", ""]),
)


def drf(field, value):
    return field.run_validation(value)


def refused_by_all_decimal_readers(value):
    with pytest.raises(ValidationError):
        decimal_value(value, "amount")
    with pytest.raises(serializers.ValidationError):
        drf(PlainDecimalField(max_digits=14, decimal_places=2), value)
    with pytest.raises(ValidationError):
        PlainDecimalFormField(max_digits=14, decimal_places=2).clean(value)


@given(NOT_PLAIN)
def test_no_float_exponent_or_foreign_digit_is_taken_as_an_amount(value):
    refused_by_all_decimal_readers(value)


@given(st.one_of(NOT_PLAIN, st.from_regex(r"-?[0-9]{1,5}\.[0-9]{1,2}", fullmatch=True)))
def test_no_float_exponent_fraction_or_foreign_digit_is_taken_as_a_whole_number(value):
    if isinstance(value, str) and value.strip() == "":
        return  # blank: "required" elsewhere, not a number at all
    with pytest.raises(ValidationError):
        whole_number(value, "quantity", minimum=-(10**9))
    with pytest.raises(serializers.ValidationError):
        drf(PlainIntegerField(), value)
    with pytest.raises(ValidationError):
        PlainIntegerFormField().clean(value)


@given(st.from_regex(PLAIN, fullmatch=True))
def test_every_plain_decimal_text_reads_as_itself(text):
    expected = Decimal(text)
    assert decimal_value(text, "amount") == expected
    assert drf(PlainDecimalField(max_digits=14, decimal_places=2), text) == expected
    assert PlainDecimalFormField(max_digits=14, decimal_places=2).clean(text) == expected


@given(st.integers(min_value=-(10**6), max_value=10**6))  # whole_number's bound
def test_integers_read_as_themselves(number):
    assert decimal_value(number, "amount") == Decimal(number)
    assert drf(PlainDecimalField(max_digits=14, decimal_places=2), number) == Decimal(number)
    assert whole_number(number, "quantity", minimum=-(10**9)) == number
    assert whole_number(str(number), "quantity", minimum=-(10**9)) == number
    assert drf(PlainIntegerField(), number) == number
    assert drf(PlainIntegerField(), str(number)) == number


def test_the_refusal_names_the_field_and_keeps_its_words():
    with pytest.raises(ValidationError) as exc:
        decimal_value("1e2", "amount")
    assert exc.value.message_dict == {"amount": ["Enter an amount such as 1234.50; got '1e2'."]}
    with pytest.raises(ValidationError) as exc:
        whole_number("1.0", "quantity", minimum=1)
    assert exc.value.message_dict == {"quantity": ["Enter a whole number; got '1.0'."]}


# --- Over the field API ------------------------------------------------------------------


@pytest.fixture
def rep_api(sales_rep, north, head_office, customer_factory, products):
    from stock.services import distribution_create, stock_receive

    stock_receive(depot=north, product=products["12.7KG"], quantity=10, actor=head_office)
    distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=products["12.7KG"],
        quantity=5,
        kind="COLLECTION",
        actor=sales_rep,
    )
    customer_factory("CREDIT", credit_limit=Decimal("100000"))  # C001, with a BULK rate
    client = APIClient()
    client.force_authenticate(sales_rep)
    return client


def refused(response, field):
    assert response.status_code == 400, response.data
    assert list(response.data["error"]["fields"]) == [field], response.data
    return response.data["error"]["fields"][field][0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "amount", ["1e2", "\u0661\u0660", 0.1, 10.0, "10,00", True, "0x10", " 1e1 "]
)
def test_a_payment_amount_must_be_plain(rep_api, amount):
    from sales.models import Payment

    response = rep_api.post("/api/payments/", {"customer": "C001", "amount": amount}, format="json")
    assert "valid number" in refused(response, "amount")
    assert not Payment.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("amount", ["10", "10.5", "10.50", 10])
def test_a_plain_payment_amount_is_taken(rep_api, amount):
    response = rep_api.post("/api/payments/", {"customer": "C001", "amount": amount}, format="json")
    assert response.status_code == 201, response.data
    assert Decimal(response.data["amount"]) == Decimal(str(amount))


@pytest.mark.django_db
@pytest.mark.parametrize("quantity", ["1.0", 1.0, "1e0", "\u0661", True, "+1"])
def test_a_sale_quantity_must_be_a_plain_whole_number(rep_api, quantity):
    line = {"product": "12.7KG", "quantity": quantity}
    response = rep_api.post("/api/sales/", {"customer": "C001", "lines": [line]}, format="json")
    refused(response, "lines[0].quantity")
    line = {"product": "12.7KG", "quantity": 1, "empties_returned": quantity}
    response = rep_api.post("/api/sales/", {"customer": "C001", "lines": [line]}, format="json")
    refused(response, "lines[0].empties_returned")


@pytest.mark.django_db
@pytest.mark.parametrize("reading", ["1e2", "\u0661\u0660\u0660", 100.5, "100.5e0"])
def test_a_meter_reading_must_be_plain(rep_api, reading):
    response = rep_api.post(
        "/api/sales/", {"customer": "C001", "meter_reading": reading}, format="json"
    )
    refused(response, "meter_reading")


@pytest.mark.django_db
def test_plain_quantities_and_readings_post(rep_api):
    line = {"product": "12.7KG", "quantity": "2", "empties_returned": 1}
    response = rep_api.post(
        "/api/sales/",
        {"customer": "C001", "lines": [line], "meter_reading": "100.50"},
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["sold"][0]["quantity"] == 2


@pytest.mark.django_db
@pytest.mark.parametrize("quantity", ["1.0", 2.0, "2e0", "\u0662"])
def test_a_distribution_quantity_must_be_a_plain_whole_number(rep_api, quantity):
    response = rep_api.post(
        "/api/distributions/",
        {"depot": "NORTH", "product": "12.7KG", "quantity": quantity, "kind": "COLLECTION"},
        format="json",
    )
    refused(response, "quantity")


# --- The admin forms and the rate-table import -------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("amount", ["1e2", "\u0661\u0660"])
def test_the_admin_payment_form_refuses_them(client, manager, credit_customer, amount):
    from django.urls import reverse

    client.force_login(manager)
    response = client.post(
        reverse("admin:sales_payment_add"),
        {"customer": credit_customer.pk, "amount": amount, "method": "CASH", "_preview": "1"},
    )
    assert response.context["stage"] == "entry"
    assert response.context["form"].errors["amount"] == [
        "Enter a number: digits with an optional decimal point, such as 1234.50, without "
        "thousands separators or an exponent."
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("quantity", ["1.0", "\u0661", "1e0"])
def test_the_admin_distribution_form_refuses_them(client, manager, sales_rep, products, quantity):
    from django.urls import reverse

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


@pytest.mark.django_db
@pytest.mark.parametrize("cell", ["1e3", "\u0661\u0660\u0660\u0660", "1,000"])
def test_a_rate_table_cell_must_be_plain(customer_factory, head_office, cell):
    from sales.models import Rate
    from sales.resources import COLUMNS, RateTableResource

    a, b = customer_factory(), customer_factory()
    before = Rate.objects.count()
    result = RateTableResource().import_data(
        tablib.Dataset(
            [a.code, a.name, "", "2300", "", "", "", "", ""],
            [b.code, b.name, "", cell, "", "", "", "", ""],
            headers=COLUMNS,
        ),
        use_transactions=True,
        user=head_office,
        file_name="rates.csv",
    )
    assert result.has_validation_errors()
    [invalid] = result.invalid_rows
    assert invalid.number == 3  # the second data row: row 3 of the spreadsheet
    [(field, messages)] = invalid.field_specific_errors.items()
    assert field in ("rate_9KG", "9 kg rate")  # the 9kg column
    assert messages == [f"Enter an amount such as 1234.50; got {cell!r}."]
    assert Rate.objects.count() == before
