"""POST /api/sync/ and idempotency: a client_id is an idempotency key, forever, per
representative, shared with the Idempotency-Key header; another body (or another type)
is refused, not replayed; the key purge never lets one post twice. And the edges: a
database failure, an unusable occurred_at, a refusal that cannot be kept."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import IdempotencyKey
from sales.models import Payment, SyncRefusal, Transaction
from sales.tests import test_sync_api as day
from sales.tests.test_sync_api import client_for, counts, load, payment, sale, sync

pytestmark = pytest.mark.django_db

customers = day.customers  # the day's fixtures
depot_stock = day.depot_stock


def test_a_client_id_sent_with_another_body_is_refused_not_replayed(sales_rep, customers):
    c1, c2 = customers[0], customers[1]
    sync(sales_rep, [load("k-load", [("12.7KG", 5)]), sale("k-sale", c1)])

    response = sync(sales_rep, [sale("k-sale", c2)])

    result = response.data["results"][0]
    assert result["status"] == "refused"
    assert result["number"] is None
    assert result["error"]["code"] == "idempotency_key_reused"
    assert result["error"]["status"] == 409
    assert list(result["error"]["fields"]) == ["client_id"]
    assert Transaction.objects.count() == 1


def test_a_client_id_used_for_another_type_is_refused(sales_rep, customers):
    c5 = customers[4]
    sync(sales_rep, [load("t-load", [("12.7KG", 5)]), sale("t-doc", c5)])
    payment_doc = payment("t-doc", c5)

    response = sync(sales_rep, [payment_doc])

    assert response.data["results"][0]["error"]["code"] == "idempotency_key_reused"
    assert Payment.objects.count() == 0


def test_a_document_posted_with_the_idempotency_key_header_replays_through_sync(
    sales_rep, customers
):
    c1 = customers[0]
    sync(sales_rep, [load("h-load", [("12.7KG", 5)])])
    doc = sale("h-sale", c1)
    body = {k: v for k, v in doc.items() if k not in ("client_id", "type")}
    single = client_for(sales_rep).post(
        "/api/sales/", body, format="json", HTTP_IDEMPOTENCY_KEY="h-sale"
    )
    assert single.status_code == 201, single.data

    response = sync(sales_rep, [doc])

    assert response.data["results"][0]["status"] == "replayed"
    assert response.data["results"][0]["number"] == single.data["number"]
    assert Transaction.objects.count() == 1
    # and the other way: a synced client_id sent again as a header replays the document
    doc2 = sale("h-sale-2", c1)
    synced = sync(sales_rep, [doc2]).data["results"][0]
    body2 = {k: v for k, v in doc2.items() if k not in ("client_id", "type")}
    again = client_for(sales_rep).post(
        "/api/sales/", body2, format="json", HTTP_IDEMPOTENCY_KEY="h-sale-2"
    )
    assert again.status_code == 201
    assert again.data["number"] == synced["number"]
    assert again["Idempotent-Replay"] == "true"
    assert Transaction.objects.count() == 2


def test_the_key_purge_never_lets_a_synced_client_id_post_twice(sales_rep, customers):
    """Invariant 7, forever: after the purge a retry of a synced client_id replays."""
    from core.tasks import housekeeping_purge

    c5 = customers[4]
    docs = [load("f-load", [("12.7KG", 5)]), sale("f-sale", c5), payment("f-pay", c5)]
    numbers = [r["number"] for r in sync(sales_rep, docs).data["results"]]
    # a header-posted document with its response stored, from long ago, purged too
    single = client_for(sales_rep).post(
        "/api/payments/",
        {"customer": c5.code, "amount": "50.00"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="f-header",
    )
    assert single.status_code == 201
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(days=400))
    housekeeping_purge()
    assert IdempotencyKey.objects.exclude(response={}).count() == 0
    before = counts()

    again = sync(
        sales_rep,
        [
            *docs,
            {"client_id": "f-header", "type": "payment", "customer": c5.code, "amount": "50.00"},
        ],
    )

    assert [r["status"] for r in again.data["results"]] == ["replayed"] * 4
    assert [r["number"] for r in again.data["results"]] == [*numbers, single.data["number"]]
    assert counts() == before


def test_a_key_kept_only_on_a_document_refuses_another_body_on_client_id(
    sales_rep, customers, products
):
    """A sale posted with the key by the service alone (no API record of the key): the
    service's own refusal, on client_id, 409."""
    from sales.services import sale_post

    sync(sales_rep, [load("d-load", [("12.7KG", 5)])])
    sale_post(
        customer=customers[0],
        sales_rep=sales_rep,
        actor=sales_rep,
        lines=[{"product": products["12.7KG"], "quantity": 1}],
        idempotency_key="d-sale",
    )

    result = sync(sales_rep, [sale("d-sale", customers[1])]).data["results"][0]

    assert result["error"]["code"] == "idempotency_key_reused"
    assert result["error"]["status"] == 409
    assert list(result["error"]["fields"]) == ["client_id"]
    assert Transaction.objects.count() == 1


def test_a_key_recorded_for_this_request_without_its_document_posts_nothing(sales_rep, customers):
    """A key record from before documents kept their keys: the same request again is
    refused rather than posted a second time, as the Idempotency-Key header does."""
    import hashlib
    import json

    doc = payment("old-key", customers[4])
    fields = {k: v for k, v in doc.items() if k not in ("client_id", "type")}
    IdempotencyKey.objects.create(
        user=sales_rep,
        key="old-key",
        path="/api/payments/",
        request_hash=hashlib.sha256(
            ("/api/payments/" + json.dumps(fields, sort_keys=True, default=str)).encode()
        ).hexdigest(),
        status_code=201,
        response={},
    )

    result = sync(sales_rep, [doc]).data["results"][0]

    assert result["error"]["code"] == "idempotency_key_reused"
    assert Payment.objects.count() == 0


def test_a_database_failure_refuses_that_document_and_keeps_no_refusal(
    sales_rep, customers, monkeypatch
):
    from django.db import OperationalError

    from sales.api import PaymentViewSet

    def busy(self, data, *, actor, idempotency_key):
        raise OperationalError("canceling statement due to lock timeout")

    monkeypatch.setattr(PaymentViewSet, "perform_post", busy)
    docs = [payment("db-pay", customers[4]), load("db-load", [("12.7KG", 5)])]

    results = sync(sales_rep, docs).data["results"]

    assert [r["status"] for r in results] == ["refused", "posted"]
    assert results[0]["error"]["code"] == "database_busy"
    assert results[0]["error"]["status"] == 503
    assert not SyncRefusal.objects.exists()  # send it again: nothing for a manager


@pytest.mark.parametrize("occurred_at", ["2026-11-30T09:15:00", "2026-13-45T09:15:00+08:00", 5])
def test_a_refusal_with_an_unusable_moment_is_kept_without_one(sales_rep, customers, occurred_at):
    doc = {**payment("bad-moment", customers[4]), "occurred_at": occurred_at}
    result = sync(sales_rep, [doc]).data["results"][0]
    assert result["status"] == "refused"
    assert "occurred_at" in result["error"]["fields"]
    kept = SyncRefusal.objects.get()
    assert kept.occurred_at is None
    assert kept.document["occurred_at"] == occurred_at


def test_a_refusal_that_cannot_be_kept_is_still_answered(sales_rep, customers, monkeypatch):
    import sales.api_sync

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(sales.api_sync, "sync_refusal_record", broken)
    results = sync(sales_rep, [sale("lost", customers[0], quantity=3)]).data["results"]
    assert results[0]["status"] == "refused"
    assert results[0]["error"]["code"] == "insufficient_stock"
