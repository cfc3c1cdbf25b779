"""payment_record with an Idempotency-Key: a retry gets the first payment back, also when
it waited for the first one's lock or lost the race to insert; the same key for another
payment is refused; an insert that fails for another reason is not hidden."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

import sales.services.payments as payment_service
from sales.models import Payment
from sales.services import payment_record

pytestmark = pytest.mark.django_db


def _keyed_unseen(monkeypatch, misses):
    """The first `misses` reads of the key find nothing (the other request had not
    committed yet); later reads see it."""
    real = payment_service._keyed
    calls = iter(range(1_000))
    monkeypatch.setattr(
        payment_service,
        "_keyed",
        lambda actor, key: None if next(calls) < misses else real(actor, key),
    )


def pay(customer, actor, amount="500.00", key="pay-1"):
    return payment_record(customer=customer, amount=amount, actor=actor, idempotency_key=key)


@pytest.mark.parametrize(
    "misses",
    [0, 1, 2],
    ids=["seen at once", "seen after the lock", "seen after the insert failed"],
)
def test_a_retry_returns_the_first_payment(monkeypatch, credit_customer, head_office, misses):
    first = pay(credit_customer, head_office)
    _keyed_unseen(monkeypatch, misses)

    again = pay(credit_customer, head_office)

    assert again.pk == first.pk
    assert again.idempotent_replay
    assert Payment.objects.count() == 1
    assert Payment.objects.get().amount == Decimal("500.00")


def test_the_same_key_for_another_payment_is_refused(monkeypatch, credit_customer, head_office):
    pay(credit_customer, head_office)
    _keyed_unseen(monkeypatch, 2)

    with pytest.raises(ValidationError) as refused:
        pay(credit_customer, head_office, amount="600.00")

    assert [e.code for e in refused.value.error_dict["idempotency_key"]] == [
        "idempotency_key_reused"
    ]
    assert Payment.objects.count() == 1


def test_an_insert_that_fails_for_another_reason_is_not_hidden(
    monkeypatch, credit_customer, head_office
):
    taken = pay(credit_customer, head_office, key=None).number
    monkeypatch.setattr(payment_service, "document_number_next", lambda **kwargs: taken)

    with pytest.raises(IntegrityError):
        pay(credit_customer, head_office, key=None)
