"""Idempotency holds forever (invariant 7, docs/architecture.md), not for IDEMPOTENCY_KEY_HOURS.

The API's stored responses are emptied every hour; the key and a fingerprint of the
request stay on the document. So after the purge a retry still gets its document back
(a replay, nothing posted twice) and the same key with another request is still a 409.
"""

from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from core.idempotency import REUSED
from core.models import IdempotencyKey
from core.tasks import housekeeping_purge
from sales.models import Payment, Transaction
from sales.services import payment_record, sale_post
from stock.models import Distribution
from stock.services import distribution_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(field_day):
    cyl, customers = field_day(codes=("C1", "C2"))
    return {"cyl": cyl, "customer": customers["C1"], "other": customers["C2"]}


def purge_as_if_later():
    """The hourly housekeeping, run as if IDEMPOTENCY_KEY_HOURS (and one) had passed."""
    later = timezone.now() + timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS + 1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        housekeeping_purge()
    assert not IdempotencyKey.objects.exclude(response={}).exists()


ENDPOINTS = {
    "sale": (
        "/api/sales/",
        {"customer": "C1", "lines": [{"product": "12.7KG", "quantity": 1}]},
        {"customer": "C1", "lines": [{"product": "12.7KG", "quantity": 2}]},
        Transaction,
        "number",
    ),
    "payment": (
        "/api/payments/",
        {"customer": "C1", "amount": "100.00", "method": "CASH"},
        {"customer": "C1", "amount": "200.00", "method": "CASH"},
        Payment,
        "number",
    ),
    "collection": (
        "/api/distributions/",
        {"depot": "NORTH", "product": "12.7KG", "quantity": 1, "kind": "COLLECTION"},
        {"depot": "NORTH", "product": "12.7KG", "quantity": 2, "kind": "COLLECTION"},
        Distribution,
        "distribution_no",
    ),
}


@pytest.mark.parametrize("kind", ENDPOINTS)
def test_after_the_purge_a_retry_gets_its_document_and_another_body_is_a_409(
    world, sales_rep, kind
):
    path, body, other_body, model, number = ENDPOINTS[kind]
    client = APIClient()
    client.force_authenticate(sales_rep)

    first = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="hh-7-000001")
    assert first.status_code == 201, first.content
    rows = model.objects.count()
    purge_as_if_later()

    other = client.post(path, other_body, format="json", HTTP_IDEMPOTENCY_KEY="hh-7-000001")
    assert other.status_code == 409, other.content
    assert other.data["error"]["code"] == "idempotency_key_reused"
    assert model.objects.count() == rows

    again = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="hh-7-000001")
    assert again.status_code in (200, 201), again.content
    assert again["Idempotent-Replay"] == "true"
    assert again.data[number] == first.data[number]
    assert model.objects.count() == rows

    purge_as_if_later()  # again, later: the document still answers
    third = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="hh-7-000001")
    assert (third.status_code, third["Idempotent-Replay"]) == (201, "true")
    assert model.objects.count() == rows


def test_keys_stay_per_user_after_the_purge(world, sales_rep, user_factory, north, head_office):
    other_rep = user_factory("SALES", depots=[north])
    distribution_create(
        sales_rep=other_rep,
        depot=north,
        product=world["cyl"],
        quantity=5,
        kind="COLLECTION",
        actor=head_office,
    )
    path, body, *_ = ENDPOINTS["sale"]
    mine, theirs = APIClient(), APIClient()
    mine.force_authenticate(sales_rep)
    theirs.force_authenticate(other_rep)
    assert mine.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="same").status_code == 201
    purge_as_if_later()
    response = theirs.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert response.status_code == 201
    assert "Idempotent-Replay" not in response
    assert Transaction.objects.count() == 2


def test_a_long_key_is_not_refused_for_the_services_prefix(world, sales_rep):
    """The API used to store "api:<user id>:<key>", which pushed a 100-character key
    past the column and answered 400."""
    client = APIClient()
    client.force_authenticate(sales_rep)
    path, body, *_ = ENDPOINTS["sale"]
    response = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="k" * 100)
    assert response.status_code == 201, response.content
    assert Transaction.objects.get().idempotency_key == "k" * 100


# --- The services, without the API -------------------------------------------------------


def _reused(exc_info):
    return [e.code for e in exc_info.value.error_dict["idempotency_key"]] == [REUSED]


def test_payment_record_with_a_key_posts_once(world, sales_rep):
    kwargs = {"customer": world["customer"], "amount": "100", "actor": sales_rep}
    first = payment_record(**kwargs, idempotency_key="p-1")
    again = payment_record(**kwargs, idempotency_key="p-1")
    assert again.pk == first.pk
    assert again.idempotent_replay
    assert Payment.objects.count() == 1
    for change in ({"amount": "101"}, {"customer": world["other"]}, {"reference": "x"}):
        with pytest.raises(ValidationError) as exc:
            payment_record(**{**kwargs, **change}, idempotency_key="p-1")
        assert _reused(exc), change
        assert first.number in exc.value.message_dict["idempotency_key"][0]
    assert Payment.objects.count() == 1


def test_distribution_create_with_a_key_posts_once(world, north, sales_rep):
    kwargs = {
        "sales_rep": sales_rep,
        "depot": north,
        "product": world["cyl"],
        "quantity": 2,
        "kind": "COLLECTION",
        "actor": sales_rep,
    }
    first = distribution_create(**kwargs, idempotency_key="d-1")
    again = distribution_create(**kwargs, idempotency_key="d-1")
    assert again.pk == first.pk
    with pytest.raises(ValidationError) as exc:
        distribution_create(**{**kwargs, "quantity": 3}, idempotency_key="d-1")
    assert _reused(exc)
    assert Distribution.objects.filter(idempotency_key="d-1").count() == 1


def test_sale_post_with_a_key_and_another_request_is_refused(world, sales_rep):
    line = {"product": world["cyl"], "quantity": 1}
    first = sale_post(
        customer=world["customer"],
        sales_rep=sales_rep,
        actor=sales_rep,
        lines=[line],
        idempotency_key="s-1",
    )
    with pytest.raises(ValidationError) as exc:
        sale_post(
            customer=world["customer"],
            sales_rep=sales_rep,
            actor=sales_rep,
            lines=[{**line, "quantity": 2}],
            idempotency_key="s-1",
        )
    assert _reused(exc)
    same = sale_post(
        customer=world["customer"],
        sales_rep=sales_rep,
        actor=sales_rep,
        lines=[{**line, "empties_returned": 1}],  # the default, spelt out: the same sale
        idempotency_key="s-1",
    )
    assert same.pk == first.pk
    assert Transaction.objects.count() == 1


def test_a_sale_posted_before_fingerprints_replays_on_what_can_be_compared(world, sales_rep):
    sale = sale_post(
        customer=world["customer"],
        sales_rep=sales_rep,
        actor=sales_rep,
        lines=[{"product": world["cyl"], "quantity": 1}],
        idempotency_key="old-1",
    )
    Transaction.objects.filter(pk=sale.pk).update(request_fingerprint="")
    again = sale_post(
        customer=world["customer"],
        sales_rep=sales_rep,
        actor=sales_rep,
        lines=[{"product": world["cyl"], "quantity": 1}],
        idempotency_key="old-1",
    )
    assert again.pk == sale.pk
    with pytest.raises(ValidationError) as exc:
        sale_post(
            customer=world["other"],
            sales_rep=sales_rep,
            actor=sales_rep,
            lines=[{"product": world["cyl"], "quantity": 1}],
            idempotency_key="old-1",
        )
    assert _reused(exc)


# --- Concurrent retries ------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_one_payment_key_from_eight_threads_posts_once(concurrently, world, sales_rep):
    def retry():
        return payment_record(
            customer=world["customer"], amount="100", actor=sales_rep, idempotency_key="p-8"
        )

    outcomes = concurrently([retry] * 8)
    assert all(isinstance(o, Payment) for o in outcomes), outcomes
    assert len({o.pk for o in outcomes}) == 1
    assert Payment.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_one_key_for_two_customers_at_once_posts_one_and_refuses_the_other(
    concurrently, world, sales_rep
):
    def pay(customer):
        return lambda: payment_record(
            customer=customer, amount="100", actor=sales_rep, idempotency_key="p-2"
        )

    outcomes = concurrently([pay(world["customer"]), pay(world["other"])] * 3)
    posted = {o.pk for o in outcomes if isinstance(o, Payment)}
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(posted) == 1
    assert len(refused) == 3
    assert all(e.error_dict["idempotency_key"][0].code == REUSED for e in refused)
    assert Payment.objects.count() == 1
