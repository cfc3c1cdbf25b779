"""Two senders at once, on PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED hands each
message to one of them, so each e-mail goes once and both work."""

import pytest

from billing.services import outbox_send
from billing.tests.conftest import RecordingBackend
from core.models import OutboxMessage, OutboxStatus

MESSAGES = 30


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_senders_send_each_message_once(
    enqueue, recording, concurrently, monkeypatch
):
    monkeypatch.setattr("core.services.outbox.outbox_send_soon", lambda: None)  # no worker
    monkeypatch.setattr(RecordingBackend, "DELAY", 0.05)  # the mail server takes a while
    for n in range(MESSAGES):
        enqueue(to=f"buyer{n}@example.com")

    outcomes = concurrently([outbox_send, outbox_send])

    assert all(isinstance(sent, int) for sent in outcomes), outcomes
    assert sum(outcomes) == MESSAGES
    assert min(outcomes) > 0, outcomes  # both took messages: neither waited for the other
    ids = [email.extra_headers["Message-ID"] for email in recording]
    assert len(ids) == len(set(ids)) == MESSAGES
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(OutboxStatus.SENT, 1)}
