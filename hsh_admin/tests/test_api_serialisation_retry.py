"""A handheld's POST that loses a race in the database (deadlock, serialisation failure)
is retried whole, at the outermost transaction (the Idempotency-Key wrapper's), never
shown as a 503 while a retry can still succeed; and it posts once."""

import psycopg.errors
import pytest
from django.db import OperationalError
from rest_framework.test import APIClient

from core.db import MAX_ATTEMPTS
from core.models import AuditLog, IdempotencyKey
from sales.models import Payment, Transaction
from sales.services import payments as payment_service
from sales.services import sales as sale_service
from stock.models import Distribution
from stock.services import distributions as distribution_service

# Retrying needs real transactions: inside a test's own transaction nothing can retry.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def serialisation_failure():
    """What Django raises when PostgreSQL answers SQLSTATE 40001."""
    try:
        raise OperationalError(
            "could not serialize access"
        ) from psycopg.errors.SerializationFailure(
            "could not serialize access due to concurrent update"
        )
    except OperationalError as exc:
        return exc


def failing_first(monkeypatch, module, name, times=1):
    """Make module.name raise a serialisation failure the first `times` calls."""
    real = getattr(module, name)
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) <= times:
            raise serialisation_failure()
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, flaky)
    return calls


@pytest.fixture
def world(field_day, sales_rep):
    field_day()
    client = APIClient()
    client.force_authenticate(sales_rep)
    return {"client": client}


CASES = {
    "payment": (
        "/api/payments/",
        {"customer": "C1", "amount": "100.00"},
        payment_service,
        "audit_record",
        Payment,
    ),
    "sale": (
        "/api/sales/",
        {"customer": "C1", "lines": [{"product": "12.7KG", "quantity": 1}]},
        sale_service,
        "sale_audit_data",  # inside the sale's transaction, before its last round trip
        Transaction,
    ),
    "collection": (
        "/api/distributions/",
        {"depot": "NORTH", "product": "12.7KG", "quantity": 1, "kind": "COLLECTION"},
        distribution_service,
        "audit_record",
        Distribution,
    ),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("key", ["hh-1", None], ids=["with-key", "without-key"])
def test_a_serialisation_failure_is_retried_and_posts_once(world, monkeypatch, case, key):
    path, body, module, name, model = CASES[case]
    before = (model.objects.count(), AuditLog.objects.count())
    calls = failing_first(monkeypatch, module, name)
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}

    response = world["client"].post(path, body, format="json", **headers)

    assert response.status_code == 201, response.content
    assert len(calls) == 2  # failed once, then went through
    assert model.objects.count() == before[0] + 1
    assert AuditLog.objects.count() == before[1] + 1
    assert IdempotencyKey.objects.count() == (1 if key else 0)
    number = response.data.get("number") or response.data.get("distribution_no")
    assert int(number.rsplit("-", 1)[1]) == model.objects.count()  # no gap in the numbers


def test_a_race_lost_every_time_is_a_503_and_writes_nothing(world, monkeypatch):
    path, body, module, name, model = CASES["payment"]
    calls = failing_first(monkeypatch, module, name, times=MAX_ATTEMPTS)

    response = world["client"].post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="hh-2")

    assert response.status_code == 503
    assert response.data["error"]["code"] == "database_busy"
    assert len(calls) == MAX_ATTEMPTS
    assert (model.objects.count(), IdempotencyKey.objects.count()) == (0, 0)
