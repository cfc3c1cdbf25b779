"""POST /api/sync/: a handheld's day in one request, each document on its own; synced
again, nothing new posts; refused documents are answered and kept for a manager; a
malformed batch posts nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import IdempotencyKey
from sales.models import CylinderReturn, Payment, SyncRefusal, Transaction
from stock.models import Distribution

pytestmark = pytest.mark.django_db


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def sync(user, documents):
    return client_for(user).post("/api/sync/", {"documents": documents}, format="json")


def counts():
    return (
        Transaction.objects.count(),
        Payment.objects.count(),
        Distribution.objects.count(),
        CylinderReturn.objects.count(),
        SyncRefusal.objects.count(),
    )


def moment(minutes_ago):
    return (timezone.now() - timedelta(minutes=minutes_ago)).isoformat()


@pytest.fixture
def depot_stock(north, head_office, products):
    from stock.services import stock_receive

    for code in ("12.7KG", "9KG"):
        stock_receive(depot=north, product=products[code], quantity=100, actor=head_office)


def customer_make(code, payment_type, depot, actor, products, credit_limit=None):
    """A customer of `depot` with rates from two days back, so documents that happened
    hours ago are priced."""
    from sales.models import Customer
    from sales.services import rate_set

    customer = Customer.objects.create(
        code=code,
        name=f"Customer {code[1:].lstrip('0')}",
        depot=depot,
        payment_type=payment_type,
        credit_limit=credit_limit,
    )
    since = timezone.now() - timedelta(days=2)
    for product, rate in (("12.7KG", "3000.00"), ("9KG", "2200.00")):
        rate_set(
            customer=customer,
            product=products[product],
            rate=Decimal(rate),
            actor=actor,
            effective_from=since,
        )
    return customer


@pytest.fixture
def customers(north, head_office, products, depot_stock):
    """Four cash customers (C001-C004), then four credit ones (C005-C008)."""
    return [
        customer_make(
            f"C{n:03d}",
            "CASH" if n <= 4 else "CREDIT",
            north,
            head_office,
            products,
            credit_limit=None if n <= 4 else Decimal("10000000"),
        )
        for n in range(1, 9)
    ]


def load(client_id, lines, kind="COLLECTION", minutes_ago=600):
    return {
        "client_id": client_id,
        "type": "distribution",
        "occurred_at": moment(minutes_ago),
        "kind": kind,
        "lines": [{"product": p, "quantity": q} for p, q in lines],
    }


def sale(client_id, customer, product="12.7KG", quantity=1, empties=1, minutes_ago=300):
    return {
        "client_id": client_id,
        "type": "sale",
        "occurred_at": moment(minutes_ago),
        "customer": customer.code,
        "lines": [{"product": product, "quantity": quantity, "empties_returned": empties}],
    }


def payment(client_id, customer, amount="100.00", minutes_ago=200):
    return {
        "client_id": client_id,
        "type": "payment",
        "occurred_at": moment(minutes_ago),
        "customer": customer.code,
        "amount": amount,
        "method": "CASH",
    }


def cylinder_return(client_id, customer, product="12.7KG", quantity=1, minutes_ago=100):
    return {
        "client_id": client_id,
        "type": "return",
        "occurred_at": moment(minutes_ago),
        "customer": customer.code,
        "lines": [{"product": product, "quantity": quantity}],
    }


def a_day(customers):
    """80 documents: the morning load, 60 sales (cash and credit, some leaving cylinders
    with the customer), 12 payments, 6 cylinder returns, the evening empty return."""
    docs = [load("day-load", [("12.7KG", 40), ("9KG", 40)], minutes_ago=700)]
    for i in range(60):
        docs.append(
            sale(
                f"day-sale-{i}",
                customers[i % 8],
                product="12.7KG" if i % 2 == 0 else "9KG",
                empties=0 if i % 3 == 0 else 1,
                minutes_ago=600 - i,
            )
        )
    for i in range(12):
        docs.append(payment(f"day-pay-{i}", customers[4 + i % 4], minutes_ago=400 - i))
    # customers left holding a cylinder: C001 12.7KG (sale 0), C004 9KG (3), C007 12.7KG
    # (6), C002 9KG (9), C005 12.7KG (12), C008 9KG (15)
    for i, index in enumerate((0, 3, 6, 1, 4, 7)):
        product = "12.7KG" if i % 2 == 0 else "9KG"
        docs.append(cylinder_return(f"day-ret-{i}", customers[index], product, minutes_ago=300 - i))
    docs.append(load("day-empties", [("12.7KG", 10)], kind="EMPTY_RETURN", minutes_ago=60))
    assert len(docs) == 80
    return docs


def test_a_day_of_80_documents_posts_in_one_request_and_replays_whole(sales_rep, customers):
    docs = a_day(customers)
    response = sync(sales_rep, docs)
    assert response.status_code == 200, response.data
    results = response.data["results"]
    assert [r["client_id"] for r in results] == [d["client_id"] for d in docs]
    refused = [r for r in results if r["status"] != "posted"]
    assert refused == []
    numbers = [r["number"] for r in results]
    assert len(set(numbers)) == 80
    assert numbers[0].startswith("DST-")
    assert numbers[1].startswith("TX-")
    assert numbers[61].startswith("PAY-")
    assert numbers[73].startswith("RET-")
    assert all(r["error"] is None for r in results)
    assert Transaction.objects.filter(sales_rep=sales_rep).count() == 60
    before = counts()
    keys = IdempotencyKey.objects.filter(user=sales_rep).count()
    assert keys == 80

    again = sync(sales_rep, docs)

    assert again.status_code == 200
    assert [r["status"] for r in again.data["results"]] == ["replayed"] * 80
    assert [r["number"] for r in again.data["results"]] == numbers
    assert counts() == before
    assert IdempotencyKey.objects.filter(user=sales_rep).count() == keys


def test_one_refused_document_in_the_middle_leaves_the_others_posted(sales_rep, customers, north):
    c1, c5 = customers[0], customers[4]
    docs = [
        load("m-load", [("12.7KG", 5)]),
        sale("m-sale-1", c5, quantity=2),
        sale("m-sale-2", c1, quantity=9),  # only 3 left on the vehicle
        payment("m-pay", c5, amount="1000.00"),
    ]
    response = sync(sales_rep, docs)
    statuses = [r["status"] for r in response.data["results"]]
    assert statuses == ["posted", "posted", "refused", "posted"]
    refused = response.data["results"][2]
    assert refused["number"] is None
    assert refused["error"]["status"] == 400
    assert refused["error"]["code"] == "insufficient_stock"
    assert "lines[0].quantity" in refused["error"]["fields"]
    assert "9 requested" in refused["error"]["message"]
    kept = SyncRefusal.objects.get()
    assert (kept.sales_rep, kept.depot, kept.client_id, kept.doc_type) == (
        sales_rep,
        north,
        "m-sale-2",
        "sale",
    )
    assert kept.document == docs[2]
    assert kept.error_code == "insufficient_stock"
    assert kept.error_fields == refused["error"]["fields"]
    assert kept.status == "OPEN"
    assert kept.occurred_at is not None
    # the refused document keeps no key
    assert not IdempotencyKey.objects.filter(user=sales_rep, key="m-sale-2").exists()


def test_a_refused_document_sent_again_posts_and_settles_its_refusal(sales_rep, customers):
    doc = sale("r-sale", customers[0], quantity=3)
    first = sync(sales_rep, [load("r-load", [("12.7KG", 1)]), doc])
    assert [r["status"] for r in first.data["results"]] == ["posted", "refused"]
    # refused again: still one open refusal, brought up to date
    sync(sales_rep, [doc])
    assert SyncRefusal.objects.filter(status="OPEN").count() == 1

    second = sync(sales_rep, [load("r-load-2", [("12.7KG", 5)]), doc])

    result = second.data["results"][1]
    assert result["status"] == "posted"
    refusal = SyncRefusal.objects.get()
    assert refusal.status == "REPOSTED"
    assert refusal.reposted_number == result["number"]
    assert refusal.resolved_by == sales_rep
    assert refusal.resolved_at is not None
    third = sync(sales_rep, [doc])
    assert third.data["results"][0]["status"] == "replayed"
    assert SyncRefusal.objects.get().reposted_number == result["number"]


@pytest.mark.parametrize(
    ("mangle", "field"),
    [
        (lambda docs: docs[1].update(type="refund"), "documents[1].type"),
        (lambda docs: docs[2].pop("type"), "documents[2].type"),
        (lambda docs: docs[1].pop("client_id"), "documents[1].client_id"),
        (lambda docs: docs[2].update(client_id=""), "documents[2].client_id"),
        (lambda docs: docs[2].update(client_id=7), "documents[2].client_id"),
        (lambda docs: docs[2].update(client_id="x" * 101), "documents[2].client_id"),
        (lambda docs: docs[2].update(client_id="a\x00b"), "documents[2].client_id"),
        (lambda docs: docs[2].update(client_id=docs[0]["client_id"]), "documents[2].client_id"),
        (lambda docs: docs.__setitem__(1, ["not", "an", "object"]), "documents[1]"),
    ],
)
def test_a_malformed_batch_names_the_document_and_field_and_posts_nothing(
    sales_rep, customers, mangle, field
):
    docs = [
        load("b-load", [("12.7KG", 5)]),
        sale("b-sale", customers[0]),
        sale("b-2", customers[1]),
    ]
    mangle(docs)
    before = counts()

    response = sync(sales_rep, docs)

    assert response.status_code == 400
    error = response.data["error"]
    assert error["code"] == "invalid"
    assert error["status"] == 400
    assert list(error["fields"]) == [field]
    assert error["message"] == error["fields"][field][0]
    assert counts() == before
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"documents": []},
        {"documents": "day"},
        [{"client_id": "a", "type": "sale"}],
    ],
)
def test_a_batch_without_documents_is_refused(sales_rep, body):
    response = client_for(sales_rep).post("/api/sync/", body, format="json")
    assert response.status_code == 400
    assert list(response.data["error"]["fields"]) == ["documents"]


def test_more_than_500_documents_are_refused_whole(sales_rep, customers):
    docs = [load("big-load", [("12.7KG", 5)])] + [
        payment(f"big-{i}", customers[4]) for i in range(500)
    ]
    response = sync(sales_rep, docs)
    assert response.status_code == 400
    assert "501 sent" in response.data["error"]["fields"]["documents"][0]
    assert Distribution.objects.count() == 0
    assert Payment.objects.count() == 0


def test_only_representatives_sync(manager, head_office, customers):
    doc = [load("p-load", [("12.7KG", 5)])]
    for user in (manager, head_office):
        response = sync(user, doc)
        assert response.status_code == 403
        assert response.data["error"]["code"] == "permission_denied"
    anonymous = APIClient().post("/api/sync/", {"documents": doc}, format="json")
    assert anonymous.status_code == 401
    assert anonymous.data["error"]["code"] == "not_authenticated"


def test_serializer_refusals_name_the_field_and_are_kept(sales_rep, customers):
    docs = [
        {"client_id": "s-1", "type": "sale", "customer": "NOPE", "lines": []},
        {"client_id": "s-2", "type": "payment", "customer": customers[4].code, "amount": 1.5},
        {"client_id": "s-3", "type": "distribution", "kind": "COLLECTION"},
    ]
    results = sync(sales_rep, docs).data["results"]
    assert [r["status"] for r in results] == ["refused"] * 3
    assert "customer" in results[0]["error"]["fields"]
    assert "amount" in results[1]["error"]["fields"]
    assert set(results[2]["error"]["fields"]) == {"product", "quantity"}
    assert all(r["error"]["code"] == "invalid" for r in results)
    assert SyncRefusal.objects.count() == 3


def test_an_unexpected_failure_refuses_that_document_only(sales_rep, customers, monkeypatch):
    from sales.api import PaymentViewSet

    def broken(self, data, *, actor, idempotency_key):
        raise RuntimeError("a bug")

    monkeypatch.setattr(PaymentViewSet, "perform_post", broken)
    c5 = customers[4]
    docs = [load("u-load", [("12.7KG", 5)]), payment("u-pay", c5), sale("u-sale", c5)]

    response = sync(sales_rep, docs)

    assert response.status_code == 200
    assert [r["status"] for r in response.data["results"]] == ["posted", "refused", "posted"]
    assert response.data["results"][1]["error"]["code"] == "server_error"
    assert response.data["results"][1]["error"]["status"] == 500
    assert not IdempotencyKey.objects.filter(key="u-pay").exists()
