"""The sale and payment add forms take initial values from the address (?customer=12, as
the customer page's links do). Whatever the address holds, the form shows: a value that
is not one of the user's customers or representatives is left out, never a 500."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

FORMS = ["admin:sales_transaction_add", "admin:sales_payment_add"]
BAD = ["abc", "999999999", "99999999999999999999999", "1.5", "-1", ""]


@pytest.mark.parametrize("url", FORMS)
@pytest.mark.parametrize("value", BAD)
def test_a_customer_that_is_not_one_shows_the_form_without_it(
    client, head_office, cash_customer, url, value
):
    client.force_login(head_office)
    response = client.get(reverse(url), {"customer": value})
    assert response.status_code == 200
    assert response.context["form"]["customer"].value() in (None, "")


@pytest.mark.parametrize("url", FORMS)
def test_a_nul_in_the_customer_is_refused_or_dropped(client, head_office, url):
    client.force_login(head_office)
    response = client.get(reverse(url), {"customer": "\x00"})
    assert response.status_code in (200, 400)


def test_a_bad_representative_is_left_out_too(client, head_office, cash_customer):
    client.force_login(head_office)
    response = client.get(
        reverse("admin:sales_transaction_add"), {"sales_rep": "abc", "meter_reading": "x"}
    )
    assert response.status_code == 200
    assert response.context["form"]["sales_rep"].value() in (None, "")


@pytest.mark.parametrize("url", FORMS)
def test_a_real_customer_is_filled_in(client, head_office, cash_customer, url):
    client.force_login(head_office)
    response = client.get(reverse(url), {"customer": cash_customer.pk})
    assert response.status_code == 200
    assert str(response.context["form"]["customer"].value()) == str(cash_customer.pk)
    assert cash_customer.code in response.content.decode()


@pytest.mark.parametrize("url", FORMS)
def test_a_customer_of_another_depot_is_not_offered_to_a_manager(
    client, manager, customer_factory, south, url
):
    elsewhere = customer_factory(depot=south)
    client.force_login(manager)
    response = client.get(reverse(url), {"customer": elsewhere.pk})
    assert response.status_code == 200
    assert response.context["form"]["customer"].value() in (None, "")
    assert elsewhere.code not in response.content.decode()
