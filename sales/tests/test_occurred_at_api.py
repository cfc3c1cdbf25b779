"""occurred_at over the field API (#17): POST /api/sales/, /api/payments/, /api/returns/
and /api/distributions/ take it (ISO 8601 with an offset) and show it beside created_at;
a bad value is a 400 naming occurred_at; a time without an offset is refused
(occurred_at_naive), never read in the server's time zone; the Idempotency-Key's request
includes it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from core.models import AuditLog
from sales.models import CylinderReturn, Payment, Transaction
from sales.services import customer_create, rate_set, sale_post, tax_rate_set
from stock.models import Distribution, StockMovement
from stock.services import distribution_create, stock_receive

pytestmark = pytest.mark.django_db

D = Decimal
PLUS_EIGHT = timezone.get_fixed_timezone(8 * 60)


@pytest.fixture
def account(north, head_office, sales_rep, products):
    """A credit customer H1 opened 20 days ago at 12.7KG 3000.00, tax 5 % then and 10 %
    from yesterday; 100 full 12.7KG at NORTH, 20 of them on the representative's vehicle."""
    opened = timezone.now() - timedelta(days=20)
    tax_rate_set(rate="5", actor=head_office, at=opened)
    customer = customer_create(
        code="H1", name="Hotel", depot=north, payment_type="CREDIT", actor=head_office, at=opened
    )
    cyl = products["12.7KG"]
    rate_set(customer=customer, product=cyl, rate="3000", actor=head_office, at=opened)
    stock_receive(depot=north, product=cyl, quantity=100, actor=head_office, at=opened)
    distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=20,
        kind="COLLECTION",
        actor=head_office,
        at=opened,
    )
    tax_rate_set(rate="10", actor=head_office, at=timezone.now() - timedelta(days=1))
    return customer


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def two_days_ago() -> str:
    """Two days ago as the handheld sends it: ISO 8601 with its +08:00 offset."""
    return (timezone.now() - timedelta(days=2)).astimezone(PLUS_EIGHT).isoformat()


def sale_body(**extra):
    return {"customer": "H1", "lines": [{"product": "12.7KG", "quantity": 1}], **extra}


def written() -> tuple[int, ...]:
    return (
        Transaction.objects.count(),
        Payment.objects.count(),
        CylinderReturn.objects.count(),
        Distribution.objects.count(),
        StockMovement.objects.count(),
        AuditLog.objects.count(),
    )


def test_a_sale_synced_late_is_priced_when_it_happened_and_shows_both_moments(account, sales_rep):
    happened = two_days_ago()
    response = client_for(sales_rep).post(
        "/api/sales/", sale_body(occurred_at=happened), format="json"
    )
    assert response.status_code == 201, response.data
    data = response.data
    assert parse_datetime(data["occurred_at"]) == parse_datetime(happened)
    assert parse_datetime(data["created_at"]) - parse_datetime(happened) > timedelta(days=1)
    assert (data["tax_rate"], data["tax_amount"]) == ("5.00", "150.00")  # before the change
    assert data["number"].startswith("TX-")
    live = client_for(sales_rep).post("/api/sales/", sale_body(), format="json")
    assert live.data["tax_rate"] == "10.00"
    assert live.data["occurred_at"] == live.data["created_at"]
    listed = client_for(sales_rep).get(f"/api/sales/{data['number']}/")
    assert listed.data["occurred_at"] == data["occurred_at"]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("2026-11-30T09:15:00", "occurred_at_naive"),  # no offset: not read as local time
        ("yesterday", "invalid"),
        ("2026-11-30", "occurred_at_naive"),  # a day alone: midnight, but where?
        (12345, "invalid"),
        ("2026-02-30T09:15:00+08:00", "invalid"),
        ("0001-01-01T00:30:00+05:30", "invalid"),  # before the first UTC moment
        ("9999-12-31T23:30:00-05:00", "invalid"),  # after the last
    ],
)
def test_a_bad_moment_is_a_400_naming_occurred_at(account, sales_rep, value, code):
    before = written()
    client = client_for(sales_rep)
    for path, body in (
        ("/api/sales/", sale_body(occurred_at=value)),
        ("/api/payments/", {"customer": "H1", "amount": "10", "occurred_at": value}),
        (
            "/api/returns/",
            {
                "customer": "H1",
                "lines": [{"product": "12.7KG", "quantity": 1}],
                "occurred_at": value,
            },
        ),
        (
            "/api/distributions/",
            {"kind": "COLLECTION", "product": "12.7KG", "quantity": 1, "occurred_at": value},
        ),
    ):
        response = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=f"bad-{path}")
        assert response.status_code == 400, (path, response.data)
        error = response.data["error"]
        assert error["code"] == code, (path, error)
        assert list(error["fields"]) == ["occurred_at"], (path, error)
    assert written() == before


@pytest.mark.parametrize(
    ("offset", "code"),
    [(timedelta(minutes=10), "occurred_at_future"), (-timedelta(days=8), "occurred_at_too_old")],
)
def test_a_moment_out_of_the_window_is_a_400_with_nothing_posted(account, sales_rep, offset, code):
    before = written()
    when = (timezone.now() + offset).astimezone(PLUS_EIGHT).isoformat()
    response = client_for(sales_rep).post(
        "/api/sales/", sale_body(occurred_at=when), format="json", HTTP_IDEMPOTENCY_KEY="w1"
    )
    assert response.status_code == 400
    assert response.data["error"]["code"] == code
    assert "occurred_at" in response.data["error"]["fields"]
    assert written() == before
    # a refused request keeps no key: the same key posts a corrected body
    again = client_for(sales_rep).post(
        "/api/sales/", sale_body(), format="json", HTTP_IDEMPOTENCY_KEY="w1"
    )
    assert again.status_code == 201


def test_the_idempotency_key_covers_occurred_at(account, sales_rep):
    client = client_for(sales_rep)
    happened = two_days_ago()
    first = client.post(
        "/api/sales/", sale_body(occurred_at=happened), format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert first.status_code == 201
    replay = client.post(
        "/api/sales/", sale_body(occurred_at=happened), format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert replay.status_code == 201
    assert replay["Idempotent-Replay"] == "true"
    assert replay.data["number"] == first.data["number"]
    other = client.post(
        "/api/sales/",
        sale_body(occurred_at=two_days_ago()),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert other.status_code == 409
    assert other.data["error"]["code"] == "idempotency_key_reused"
    assert Transaction.objects.count() == 1


def test_payments_returns_and_distributions_take_and_show_occurred_at(account, sales_rep, products):
    sale_post(
        customer=account,
        sales_rep=sales_rep,
        actor=sales_rep,
        lines=[{"product": products["12.7KG"], "quantity": 2, "empties_returned": 0}],
    )
    client = client_for(sales_rep)
    happened = two_days_ago()
    instant = parse_datetime(happened)

    paid = client.post(
        "/api/payments/",
        {"customer": "H1", "amount": "100", "occurred_at": happened},
        format="json",
    )
    assert paid.status_code == 201, paid.data
    assert parse_datetime(paid.data["occurred_at"]) == instant
    assert paid.data["received_on"] == str(timezone.localdate(instant))
    assert Payment.objects.get(number=paid.data["number"]).occurred_at == instant

    returned = client.post(
        "/api/returns/",
        {
            "customer": "H1",
            "lines": [{"product": "12.7KG", "quantity": 1}],
            "occurred_at": happened,
        },
        format="json",
    )
    assert returned.status_code == 201, returned.data
    assert parse_datetime(returned.data["occurred_at"]) == instant
    assert CylinderReturn.objects.get(number=returned.data["number"]).occurred_at == instant

    for body in (
        {"kind": "EMPTY_RETURN", "product": "12.7KG", "quantity": 1},
        {"kind": "COLLECTION", "lines": [{"product": "12.7KG", "quantity": 2}]},
    ):
        posted = client.post(
            "/api/distributions/", {**body, "occurred_at": happened}, format="json"
        )
        assert posted.status_code == 201, posted.data
        assert parse_datetime(posted.data["occurred_at"]) == instant
        assert Distribution.objects.get(distribution_no=posted.data["number"]).occurred_at == (
            instant
        )
    live = client.post(
        "/api/distributions/",
        {"kind": "COLLECTION", "product": "12.7KG", "quantity": 1},
        format="json",
    )
    assert live.data["occurred_at"] == live.data["created_at"]


def test_the_schema_documents_occurred_at_with_an_example(head_office):
    response = client_for(head_office).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schemas = response.json()["components"]["schemas"]
    for name in ("Sale", "Payment", "CylinderReturn", "Distribution"):
        field = schemas[name]["properties"]["occurred_at"]
        assert field["format"] == "date-time"
        assert field["example"] == "2026-11-30T09:15:00+08:00"
        assert "occurred_at" not in schemas[name].get("required", [])
