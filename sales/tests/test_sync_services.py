"""sales.services.sync: refusals kept, reposted as the representative and dismissed;
their refusals (already settled, a reason missing, too long or not text)."""

import pytest
from django.core.exceptions import ValidationError

from core.models import AuditLog, IdempotencyKey
from sales.api_sync import repost_as_representative
from sales.models import SyncRefusal
from sales.services.sync import (
    sync_key_claim,
    sync_refusal_dismiss,
    sync_refusal_record,
    sync_refusal_repost,
)

pytestmark = pytest.mark.django_db

ERROR = {"code": "invalid", "message": "Unknown customer.", "fields": {"customer": ["?"]}}


@pytest.fixture
def refusal(sales_rep, north):
    return sync_refusal_record(
        sales_rep=sales_rep,
        client_id="svc-1",
        doc_type="payment",
        document={"client_id": "svc-1", "type": "payment", "customer": "NOPE", "amount": "5"},
        error=ERROR,
        occurred_at=None,
        depot=north,
    )


def codes(exc: ValidationError) -> dict[str, list[str]]:
    return {name: [e.code for e in errors] for name, errors in exc.error_dict.items()}


def test_a_refusal_is_kept_as_sent_and_refused_again_is_brought_up_to_date(
    refusal, sales_rep, north
):
    assert (refusal.status, refusal.depot, refusal.error_code) == ("OPEN", north, "invalid")
    again = sync_refusal_record(
        sales_rep=sales_rep,
        client_id="svc-1",
        doc_type="payment",
        document={"client_id": "svc-1", "type": "payment", "customer": "NOPE", "amount": "6"},
        error={"code": "amount_too_small", "message": "Too small.", "fields": {}},
        occurred_at=None,
        depot=north,
    )
    assert again.pk == refusal.pk
    assert again.document["amount"] == "6"
    assert again.error_code == "amount_too_small"
    assert SyncRefusal.objects.count() == 1


@pytest.mark.parametrize(
    ("reason", "code"),
    [("", "required"), ("   ", "required"), ("x" * 256, "max_length"), ("a\x00b", "invalid")],
)
def test_a_dismissal_needs_a_reason_people_can_read(refusal, manager, reason, code):
    with pytest.raises(ValidationError) as refused:
        sync_refusal_dismiss(refusal=refusal, actor=manager, reason=reason)
    assert codes(refused.value) == {"reason": [code]}
    refusal.refresh_from_db()
    assert refusal.status == "OPEN"


def test_a_reason_that_is_not_text_is_refused(refusal, manager):
    with pytest.raises(ValidationError) as refused:
        sync_refusal_dismiss(refusal=refusal, actor=manager, reason=None)
    assert codes(refused.value) == {"reason": ["invalid"]}


def test_a_settled_refusal_is_not_settled_twice(refusal, manager):
    sync_refusal_dismiss(refusal=refusal, actor=manager, reason="sold on paper")
    with pytest.raises(ValidationError) as refused:
        sync_refusal_dismiss(refusal=refusal, actor=manager, reason="again")
    assert refused.value.error_list[0].code == "sync_refusal_settled"
    with pytest.raises(ValidationError) as reposted:
        sync_refusal_repost(
            refusal=refusal, document={}, actor=manager, post=repost_as_representative
        )
    assert reposted.value.error_list[0].code == "sync_refusal_settled"
    assert AuditLog.objects.filter(action="sync_refusal_dismiss").count() == 1


def test_a_repost_refused_writes_nothing(refusal, manager):
    with pytest.raises(ValidationError) as refused:
        sync_refusal_repost(
            refusal=refusal,
            document={"customer": "STILL-NOPE", "amount": "5"},
            actor=manager,
            post=repost_as_representative,
        )
    assert "customer" in refused.value.error_dict
    refusal.refresh_from_db()
    assert refusal.status == "OPEN"
    assert not IdempotencyKey.objects.exists()
    assert not AuditLog.objects.filter(action="sync_refusal_repost").exists()


def test_a_repost_needs_a_document_and_a_readable_note(refusal, manager):
    with pytest.raises(ValidationError) as not_a_document:
        sync_refusal_repost(
            refusal=refusal, document=["x"], actor=manager, post=repost_as_representative
        )
    assert codes(not_a_document.value) == {"document": ["invalid"]}
    with pytest.raises(ValidationError) as long_note:
        sync_refusal_repost(
            refusal=refusal,
            document={},
            actor=manager,
            post=repost_as_representative,
            note="n" * 300,
        )
    assert codes(long_note.value) == {"note": ["max_length"]}


def test_a_repost_of_a_document_refused_as_a_whole_names_no_field(refusal, manager, north):
    # a load sheet without lines: the serializer's refusal is about named fields; an
    # unknown depot code too
    refusal.doc_type = "distribution"
    with pytest.raises(ValidationError) as refused:
        sync_refusal_repost(
            refusal=refusal,
            document={"kind": "COLLECTION", "depot": "NOWHERE", "lines": []},
            actor=manager,
            post=lambda rep, doc_type, client_id, doc: repost_as_representative(
                rep, "distribution", client_id, doc
            ),
        )
    assert "depot" in refused.value.error_dict


def test_a_key_claimed_for_one_request_refuses_another(sales_rep):
    assert sync_key_claim(user=sales_rep, key="k", path="/api/sales/", request_hash="a") is True
    assert sync_key_claim(user=sales_rep, key="k", path="/api/sales/", request_hash="a") is False
    with pytest.raises(ValidationError) as refused:
        sync_key_claim(user=sales_rep, key="k", path="/api/payments/", request_hash="b")
    assert codes(refused.value) == {"client_id": ["idempotency_key_reused"]}
