"""A posting's moment cannot be set from outside (#14): the services take `at=` for the
demo seed and tests, and the API never passes it. An `at` (or `created_at`) in a request
body is ignored: the document, its number, its ledger rows and its audit entry are
stamped with the server's clock."""

import ast
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditLog, User
from sales.models import Customer, Payment, Transaction
from stock.models import Distribution, Product, StockMovement

pytestmark = pytest.mark.django_db

LONG_AGO = "2020-12-31T23:59:00+00:00"
BACKDATING = {"at": LONG_AGO, "created_at": LONG_AGO}


@pytest.fixture
def world(field_day: Callable[..., tuple[Product, dict[str, Customer]]]) -> Product:
    cyl, _ = field_day(received=50)  # credit customer C1 at NORTH; the rep has 20 fulls
    return cyl


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def assert_stamped_now(created_at: datetime, number: str, action: str, pk: int) -> None:
    assert timezone.now() - created_at < timedelta(minutes=5)
    assert number.split("-")[1] == str(timezone.localtime(created_at).year)
    assert AuditLog.objects.get(action=action, object_id=str(pk)).created_at == created_at


def test_a_sale_ignores_an_at_in_its_body(world: Product, sales_rep: User) -> None:
    response = client_for(sales_rep).post(
        "/api/sales/",
        {"customer": "C1", "lines": [{"product": "12.7KG", "quantity": 1}], **BACKDATING},
        format="json",
    )
    assert response.status_code == 201, response.content
    sale = Transaction.objects.get(number=response.json()["number"])
    assert_stamped_now(sale.created_at, sale.number, "sale_post", sale.pk)
    ledger = StockMovement.objects.filter(doc_type="sales.transaction", doc_id=sale.pk)
    assert set(ledger.values_list("created_at", flat=True)) == {sale.created_at}


def test_a_payment_ignores_an_at_in_its_body(world: Product, sales_rep: User) -> None:
    response = client_for(sales_rep).post(
        "/api/payments/", {"customer": "C1", "amount": "10.00", **BACKDATING}, format="json"
    )
    assert response.status_code == 201, response.content
    payment = Payment.objects.get(number=response.json()["number"])
    assert_stamped_now(payment.created_at, payment.number, "payment_record", payment.pk)


def test_a_distribution_ignores_an_at_in_its_body(world: Product, sales_rep: User) -> None:
    response = client_for(sales_rep).post(
        "/api/distributions/",
        {"kind": "COLLECTION", "depot": "NORTH", "product": "12.7KG", "quantity": 1, **BACKDATING},
        format="json",
    )
    assert response.status_code == 201, response.content
    distribution = Distribution.objects.get(distribution_no=response.json()["distribution_no"])
    assert_stamped_now(
        distribution.created_at,
        distribution.distribution_no,
        "distribution_create",
        distribution.pk,
    )


TAKE_A_MOMENT = {
    "audit_record",
    "audit_record_many",
    "customer_create",
    "distribution_create",
    "ledger_write",
    "levels_move",
    "movement_post",
    "movements_post",
    "payment_record",
    "rate_set",
    "rates_set",
    "sale_post",
    "sale_void",
    "settle",
    "stock_adjust",
    "stock_receive",
}


def test_only_services_the_seed_and_tests_pass_a_moment() -> None:
    """The admin, the API, imports, tasks and commands call the posting services without
    at=: what they post is stamped with the clock."""
    root = Path(__file__).resolve().parents[2]
    found = []
    for app in ("core", "stock", "sales", "reporting", "hsh_admin"):
        for path in (root / app).rglob("*.py"):
            parts = path.relative_to(root).parts
            if {"tests", "services", "migrations"} & set(parts) or path.name == "demo.py":
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name in TAKE_A_MOMENT and any(k.arg == "at" for k in node.keywords):
                    found.append(f"{'/'.join(parts)}:{node.lineno}")
    assert found == []
