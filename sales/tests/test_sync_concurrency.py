"""Two handhelds of one representative syncing the same day at the same moment, on
PostgreSQL with real threads: each document is posted once; the other handheld gets it
replayed, with the same number."""

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from core.models import IdempotencyKey
from sales.models import CylinderReturn, Payment, SyncRefusal, Transaction
from sales.tests.test_sync_api import (  # noqa: F401 - fixtures
    customers,
    cylinder_return,
    depot_stock,
    load,
    payment,
    sale,
)
from stock.models import Distribution

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def handheld(user, documents):
    def send():
        client = APIClient()
        client.force_authenticate(user)
        response = client.post("/api/sync/", {"documents": documents}, format="json")
        assert response.status_code == 200, response.data
        return response.data["results"]

    return send


def test_two_handhelds_syncing_the_same_day_post_each_document_once(
    sales_rep,
    customers,  # noqa: F811 - the fixture imported above
    concurrently,
):
    docs = [load("two-load", [("12.7KG", 30), ("9KG", 30)])]
    for i in range(24):
        docs.append(
            sale(
                f"two-sale-{i}",
                customers[i % 8],
                product="12.7KG" if i % 2 == 0 else "9KG",
                empties=0 if i % 3 == 0 else 1,
            )
        )
    docs += [payment(f"two-pay-{i}", customers[4 + i % 4]) for i in range(6)]
    docs += [cylinder_return("two-ret-0", customers[0]), cylinder_return("two-ret-1", customers[6])]

    first, second = concurrently([handheld(sales_rep, docs), handheld(sales_rep, docs)])

    assert not isinstance(first, BaseException), first
    assert not isinstance(second, BaseException), second
    for a, b in zip(first, second, strict=True):
        assert sorted([a["status"], b["status"]]) == ["posted", "replayed"], (a, b)
        assert a["number"] == b["number"]
    assert Counter(r["status"] for r in first + second) == {"posted": 33, "replayed": 33}
    assert Transaction.objects.count() == 24
    assert Payment.objects.count() == 6
    assert CylinderReturn.objects.count() == 2
    assert Distribution.objects.count() == 1
    assert IdempotencyKey.objects.filter(user=sales_rep).count() == 33
    assert not SyncRefusal.objects.exists()
    out = StringIO()
    try:
        call_command("check_stock", stdout=out, stderr=out)
    except SystemExit:
        pytest.fail(f"check_stock found differences:\n{out.getvalue()}")
    assert "Cylinders are conserved for all" in out.getvalue()
