"""API edges: odd pagination, a deactivated user's token."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query",
    [
        "limit=-1",
        "offset=1e99",
        "limit=abc",
        "offset=-5",
        "limit=99999999999999999999",
        "offset=99999999999999999999",
    ],
)
def test_odd_pagination_is_not_a_500(sales_rep, query):
    client = APIClient()
    client.force_authenticate(sales_rep)
    for path in ("/api/customers/", "/api/sales/", "/api/payments/", "/api/distributions/"):
        response = client.get(f"{path}?{query}")
        assert response.status_code < 500, (path, query, response.status_code)


def test_a_deactivated_users_token_stops_working(sales_rep):
    token = RefreshToken.for_user(sales_rep).access_token
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/me/stock/").status_code == 200
    sales_rep.is_active = False
    sales_rep.save()
    assert client.get("/api/me/stock/").status_code == 401
