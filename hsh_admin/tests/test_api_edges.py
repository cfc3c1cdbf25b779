"""API edges: odd pagination, a deactivated user's token."""

import pytest
from rest_framework.test import APIClient

from core.auth import VersionedRefreshToken as RefreshToken  # tokens carry token_version

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


def test_limits_are_capped_and_nul_lookups_are_404s(sales_rep, north, user_factory):
    from sales.models import Customer

    for n in range(3):
        Customer.objects.create(code=f"K{n}", name="x", depot=north)
    client = APIClient()
    client.force_authenticate(sales_rep)
    response = client.get("/api/customers/?limit=99999999999999999999")
    assert response.status_code == 200
    assert len(response.data["results"]) == 3
    assert response.data["results"][0]["balance"] == "0.00"
    for path in (
        "/api/customers/%00/",
        "/api/sales/%00/",
        "/api/payments/%00/",
        "/api/distributions/%00/",
    ):
        assert client.get(path).status_code == 404, path
    bad_key = client.post(
        "/api/payments/", {"customer": "K0", "amount": "1"}, HTTP_IDEMPOTENCY_KEY="a\x00b"
    )
    assert bad_key.status_code == 400
