"""schemathesis on POST /api/sync/: batches generated from the OpenAPI schema (valid
and invalid) never get a 5xx, and a 200 answers one result per document, in order."""

from datetime import timedelta

import pytest
import schemathesis
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from core.auth import VersionedRefreshToken as RefreshToken
from sales.models import Customer
from sales.services import rate_set
from stock.models import Product
from stock.services import distribution_create, stock_receive


@pytest.fixture(autouse=True)
def business(db, north, head_office, sales_rep):
    """Stock on the vehicle, and customers with rates from before anything generated."""
    cyl = Product.objects.get(code="12.7KG")
    stock_receive(depot=north, product=cyl, quantity=100, actor=head_office)
    distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=50,
        kind="COLLECTION",
        actor=sales_rep,
    )
    since = timezone.now() - timedelta(days=8)
    for code, kind in (("C1", "CREDIT"), ("C001", "CASH")):
        customer = Customer.objects.create(code=code, name="Hotel", depot=north, payment_type=kind)
        rate_set(
            customer=customer, product=cyl, rate="3000", actor=head_office, effective_from=since
        )


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Calling the WSGI app directly fires request_finished, whose handler would close the
    test's own database connection (as in hsh_admin/tests/test_api_fuzz.py)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _no_throttle(monkeypatch):
    """Every generated batch reaches the view (not the write rate's 429)."""
    from sales.api_sync import SyncView

    monkeypatch.setattr(SyncView, "throttle_classes", [])


@pytest.fixture
def bearer(sales_rep):
    return {"Authorization": f"Bearer {RefreshToken.for_user(sales_rep).access_token}"}


def _schema():
    from hsh_admin.wsgi import application

    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    return schema.include(path="/api/sync/")


schema = _schema()


@schema.parametrize()
@hypothesis_settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
def test_no_sync_request_gets_a_server_error(case, bearer):
    response = case.call(headers=bearer)
    case.validate_response(response, checks=[not_a_server_error])
    if response.status_code == 200 and case.method.upper() == "POST":
        results = response.json()["results"]
        sent = case.body["documents"]
        assert [r["client_id"] for r in results] == [d["client_id"] for d in sent]
        for result in results:
            assert (result["number"] is None) == (result["status"] == "refused")
