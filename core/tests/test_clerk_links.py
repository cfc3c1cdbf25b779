"""Issue 18: a page offers only the links its reader may follow, and the user page says
whether a password is set, never the hash's algorithm, iterations or salt."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _page(client, user, url) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_user_page_says_password_set_without_the_hash(client, head_office, sales_rep):
    page = _page(client, head_office, reverse("admin:core_user_change", args=[sales_rep.pk]))
    assert "Password set" in page
    assert "Reset password" in page
    for hidden in ("pbkdf2", "algorithm", "iterations", "salt"):
        assert hidden not in page


def test_a_manager_sees_no_reset_link_they_could_not_follow(client, manager, sales_rep):
    url = reverse("admin:core_user_change", args=[sales_rep.pk])
    page = _page(client, manager, url)
    assert "Password set" in page
    assert "Reset password" not in page
    assert "pbkdf2" not in page
    password_url = reverse("admin:auth_user_password_change", args=[sales_rep.pk])
    assert client.get(password_url).status_code == 403


def test_set_new_rates_only_for_whoever_may_set_them(
    client, manager, head_office, customer_factory
):
    customer = customer_factory()
    url = reverse("admin:sales_customer_change", args=[customer.pk])
    rates_url = reverse("admin:sales_customer_rates", args=[customer.pk])
    page = _page(client, manager, url)
    assert "Rate history" in page
    assert "Set new rates" not in page
    assert rates_url not in page
    assert client.get(rates_url).status_code == 403
    page = _page(client, head_office, url)
    assert "Set new rates" in page
    assert rates_url in page
