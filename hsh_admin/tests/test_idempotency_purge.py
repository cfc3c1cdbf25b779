"""The hourly purge empties the API's stored responses but keeps each user's key record,
so a key stays bound to its first request across endpoints after IDEMPOTENCY_KEY_HOURS;
and sales posted through the API before keys were kept per user ("api:<user id>:<key>")
are still found by their key."""

from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import IdempotencyKey
from core.tasks import housekeeping_purge
from sales.models import Payment, Transaction
from sales.services import sale_post
from stock.models import Distribution

pytestmark = pytest.mark.django_db

SALE = {"customer": "C1", "lines": [{"product": "12.7KG", "quantity": 1}]}
PAYMENT = {"customer": "C1", "amount": "100.00", "method": "CASH"}
COLLECTION = {"depot": "NORTH", "product": "12.7KG", "quantity": 1, "kind": "COLLECTION"}


@pytest.fixture
def world(field_day):
    cyl, customers = field_day()
    return {"cyl": cyl, "customer": customers["C1"]}


@pytest.fixture
def client(sales_rep):
    client = APIClient()
    client.force_authenticate(sales_rep)
    return client


def purge_as_if_later(hours=0):
    """The hourly housekeeping, run as if IDEMPOTENCY_KEY_HOURS (and one) had passed."""
    later = timezone.now() + timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS + 1 + hours)
    with mock.patch("django.utils.timezone.now", return_value=later):
        housekeeping_purge()


def test_the_purge_keeps_each_key_record_with_an_empty_response(world, client, sales_rep):
    assert client.post("/api/sales/", SALE, format="json", HTTP_IDEMPOTENCY_KEY="K").status_code
    record = IdempotencyKey.objects.get()
    assert record.response != {}
    purge_as_if_later()
    purged = IdempotencyKey.objects.get()
    assert (purged.pk, purged.user, purged.key, purged.path) == (
        record.pk,
        sales_rep,
        "K",
        "/api/sales/",
    )
    assert (purged.request_hash, purged.status_code) == (record.request_hash, 201)
    assert purged.response == {}


def test_a_record_younger_than_the_limit_keeps_its_response(world, client):
    client.post("/api/sales/", SALE, format="json", HTTP_IDEMPOTENCY_KEY="K")
    housekeeping_purge()
    assert IdempotencyKey.objects.get().response != {}


@pytest.mark.parametrize(
    ("first_path", "first_body", "then_path", "then_body", "then_model"),
    [
        ("/api/sales/", SALE, "/api/payments/", PAYMENT, Payment),
        ("/api/payments/", PAYMENT, "/api/sales/", SALE, Transaction),
        ("/api/sales/", SALE, "/api/distributions/", COLLECTION, Distribution),
    ],
    ids=["sale-then-payment", "payment-then-sale", "sale-then-collection"],
)
def test_after_the_purge_a_key_used_on_one_endpoint_is_a_409_on_another(
    world, client, first_path, first_body, then_path, then_body, then_model
):
    first = client.post(first_path, first_body, format="json", HTTP_IDEMPOTENCY_KEY="K")
    assert first.status_code == 201, first.content
    rows = then_model.objects.count()
    purge_as_if_later()
    response = client.post(then_path, then_body, format="json", HTTP_IDEMPOTENCY_KEY="K")
    assert response.status_code == 409, response.content
    assert response.data["error"]["code"] == "idempotency_key_reused"
    assert then_model.objects.count() == rows


def test_after_the_purge_the_sale_retried_with_its_key_is_the_same_sale(world, client):
    first = client.post("/api/sales/", SALE, format="json", HTTP_IDEMPOTENCY_KEY="K")
    purge_as_if_later()
    for _ in range(2):
        again = client.post("/api/sales/", SALE, format="json", HTTP_IDEMPOTENCY_KEY="K")
        assert (again.status_code, again["Idempotent-Replay"]) == (201, "true")
        assert again.data["number"] == first.data["number"]
    assert Transaction.objects.count() == 1
    assert IdempotencyKey.objects.get().response == {}  # the record stays as it was


def test_after_the_purge_a_retry_whose_document_holds_no_key_posts_nothing(world, client):
    """A payment recorded before payments kept their key: only the API's record knew the
    key. Once its response is purged the retry is refused, not posted a second time."""
    first = client.post("/api/payments/", PAYMENT, format="json", HTTP_IDEMPOTENCY_KEY="K")
    assert first.status_code == 201
    Payment.objects.update(idempotency_key=None, request_fingerprint="")
    purge_as_if_later()
    again = client.post("/api/payments/", PAYMENT, format="json", HTTP_IDEMPOTENCY_KEY="K")
    assert again.status_code == 409, again.content
    assert again.data["error"]["code"] == "idempotency_key_reused"
    assert Payment.objects.count() == 1


def test_a_sale_posted_through_the_api_before_this_release_is_found_by_its_key(
    world, client, sales_rep
):
    """Such sales stored "api:<user id>:<key>"; their records were deleted by the old
    purge. A handheld retrying one gets it back, not a second sale."""
    old = sale_post(
        customer=world["customer"],
        sales_rep=sales_rep,
        actor=sales_rep,
        lines=[{"product": world["cyl"], "quantity": 1}],
    )
    Transaction.objects.filter(pk=old.pk).update(idempotency_key=f"api:{sales_rep.pk}:hh-1")
    again = client.post("/api/sales/", SALE, format="json", HTTP_IDEMPOTENCY_KEY="hh-1")
    assert (again.status_code, again["Idempotent-Replay"]) == (201, "true")
    assert again.data["number"] == old.number
    assert Transaction.objects.count() == 1


def test_each_run_empties_the_records_that_came_of_age_since_the_last(world, client):
    client.post("/api/sales/", SALE, format="json", HTTP_IDEMPOTENCY_KEY="K1")
    purge_as_if_later()
    client.post("/api/payments/", PAYMENT, format="json", HTTP_IDEMPOTENCY_KEY="K2")
    purge_as_if_later(hours=settings.IDEMPOTENCY_KEY_HOURS + 2)
    assert list(IdempotencyKey.objects.values_list("response", flat=True)) == [{}, {}]
