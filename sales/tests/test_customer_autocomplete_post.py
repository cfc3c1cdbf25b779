"""A customer the form cannot read, posted to the sale or payment form, is the form again
with "Select a valid choice" on the customer: the autocomplete widget that redraws the form
must not query the database with the bad value (it was a 500: "Field 'id' expected a
number but got 'abc'")."""

import pytest
from django.contrib import admin
from django.urls import reverse

from core.widgets import AutocompleteSelect
from sales.models import Transaction

pytestmark = pytest.mark.django_db

FORMS = ["admin:sales_transaction_add", "admin:sales_payment_add"]
BAD = ["abc", "1e2", "1.0", " ", "\x00", "-1", "99999999999999999999999", "1\x00"]


@pytest.mark.parametrize("url", FORMS)
@pytest.mark.parametrize("value", BAD)
def test_a_customer_that_cannot_be_one_is_a_field_error(client, head_office, url, value):
    client.force_login(head_office)
    response = client.post(
        reverse(url), {"customer": value, "amount": "10.00", "method": "CASH", "_preview": "1"}
    )
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        text = " ".join(response.context["form"].errors["customer"])
        assert any(words in text for words in ("valid choice", "required", "Null characters"))


@pytest.mark.parametrize("url", FORMS)
def test_a_letters_customer_shows_select_a_valid_choice(client, head_office, url):
    client.force_login(head_office)
    response = client.post(reverse(url), {"customer": "abc", "_preview": "1"})
    assert response.status_code == 200
    assert response.context["form"].errors["customer"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]


@pytest.mark.parametrize("url", FORMS)
def test_a_real_customer_is_still_redrawn_selected(client, head_office, cash_customer, url):
    """The widget still shows the chosen customer when another field is wrong."""
    client.force_login(head_office)
    response = client.post(
        reverse(url), {"customer": str(cash_customer.pk), "amount": "x", "_preview": "1"}
    )
    assert response.status_code == 200
    assert f'<option value="{cash_customer.pk}" selected>' in response.content.decode()


@pytest.mark.parametrize("value", [*BAD, ["abc", "1.0"]])
def test_the_widget_never_queries_a_value_the_key_cannot_hold(cash_customer, value):
    widget = AutocompleteSelect(Transaction._meta.get_field("customer"), admin.site)
    from django import forms

    from sales.models import Customer

    field = forms.ModelChoiceField(queryset=Customer.objects.all(), widget=widget)
    html = field.widget.render("customer", value)
    assert "<select" in html
    html = field.widget.render("customer", [str(cash_customer.pk), "abc"])
    assert f'value="{cash_customer.pk}" selected' in html


def test_every_autocomplete_field_of_a_registered_admin_survives_a_bad_value(rf, head_office):
    """Django's own widget (what autocomplete_fields gives) queries the bad value: an admin
    that declares autocomplete_fields must give those fields core.widgets' widget in its
    formfield_for_foreignkey, or this fails. None declares one today."""
    from django.contrib.admin.widgets import AutocompleteMixin

    request = rf.get("/")
    request.user = head_office
    for model, model_admin in admin.site._registry.items():
        for name in model_admin.get_autocomplete_fields(request):
            db_field = model._meta.get_field(name)
            formfield = (
                model_admin.formfield_for_manytomany(db_field, request)
                if db_field.many_to_many
                else model_admin.formfield_for_foreignkey(db_field, request)
            )
            widget = getattr(formfield.widget, "widget", formfield.widget)
            assert isinstance(widget, AutocompleteMixin)
            for value in BAD:
                widget.render(name, value)
