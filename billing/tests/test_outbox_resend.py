"""outbox_resend (head office): a new message for the same document, with its own
Message-ID, an audit entry, and the old one's story kept; refused for one still on its
way, for another role, and for an address that is not one. The admin's list and its
"Resend" action."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from billing.services import outbox_resend, outbox_send
from billing.services.outbox import message_id
from billing.tests.conftest import BACKENDS
from core.models import AuditLog, OutboxMessage, OutboxStatus

pytestmark = pytest.mark.django_db


def test_head_office_resends_a_sent_message_as_a_new_one(enqueue, recording, head_office):
    first = enqueue(to="buyer@example.com")
    outbox_send()
    again = outbox_resend(message=first, actor=head_office, to="accounts@example.com")
    assert (again.status, again.resend_of, again.number, again.to) == (
        OutboxStatus.PENDING,
        first,
        first.number,
        "accounts@example.com",
    )
    assert (again.document_type, again.document_id, again.kind) == (
        first.document_type,
        first.document_id,
        first.kind,
    )
    entry = AuditLog.objects.get(action="outbox_resend")
    assert (entry.actor, entry.object_id) == (head_office, str(again.pk))
    assert entry.data["resend_of"] == first.pk
    assert outbox_send() == 1
    assert [e.to for e in recording] == [["buyer@example.com"], ["accounts@example.com"]]
    # A new Message-ID: the recipient's server must not drop it as the first one again.
    assert recording[1].extra_headers["Message-ID"] == message_id(again) != message_id(first)
    first.refresh_from_db()
    assert first.status == OutboxStatus.SENT


def test_a_failed_message_is_resent_to_the_same_address(enqueue, settings, head_office):
    settings.EMAIL_BACKEND = BACKENDS + "RefusingBackend"
    first = enqueue(to="buyer@example.com")
    outbox_send()
    first.refresh_from_db()
    assert first.status == OutboxStatus.FAILED
    again = outbox_resend(message=first, actor=head_office)
    assert again.to == "buyer@example.com"
    first.refresh_from_db()
    assert first.status == OutboxStatus.FAILED  # what happened stays on record


def test_a_message_on_its_way_is_not_resent(enqueue, head_office):
    waiting = enqueue()
    with pytest.raises(ValidationError) as refused:
        outbox_resend(message=waiting, actor=head_office)
    assert refused.value.error_list[0].code == "outbox_not_finished"
    assert "waiting to be sent" in refused.value.messages[0]
    assert OutboxMessage.objects.count() == 1


def test_only_head_office_resends(enqueue, recording, manager):
    message = enqueue()
    outbox_send()
    with pytest.raises(PermissionDenied):
        outbox_resend(message=message, actor=manager)
    assert OutboxMessage.objects.count() == 1


def test_an_address_that_is_not_one_is_refused_and_nothing_written(enqueue, recording, head_office):
    message = enqueue()
    outbox_send()
    with pytest.raises(ValidationError) as refused:
        outbox_resend(message=message, actor=head_office, to="not an address")
    assert refused.value.error_dict["to"][0].code == "invalid_email"
    assert OutboxMessage.objects.count() == 1
    assert not AuditLog.objects.filter(action="outbox_resend").exists()


def test_the_admin_lists_messages_with_status_and_reason_and_resends(
    client, enqueue, settings, head_office, manager
):
    settings.EMAIL_BACKEND = BACKENDS + "RefusingBackend"
    failed = enqueue(to="nobody@example.com")
    outbox_send()
    waiting = enqueue(to="later@example.com")
    url = reverse("admin:core_outboxmessage_changelist")

    client.force_login(manager)
    assert client.get(url).status_code == 403  # head office's screen

    client.force_login(head_office)
    page = client.get(url, {"status__exact": "FAILED"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "nobody@example.com" in text
    assert "later@example.com" not in text
    assert "Failed" in text
    assert "550 5.1.1 No such user here" in text
    assert "Resend the selected e-mails" in text

    response = client.post(
        url,
        {"action": "resend", "_selected_action": [failed.pk, waiting.pk]},
        follow=True,
    )
    text = response.content.decode()
    assert f"Sending again: {failed.number} to nobody@example.com." in text
    assert "is waiting to be sent; it needs no resend" in text
    assert OutboxMessage.objects.filter(resend_of=failed).count() == 1
    assert not OutboxMessage.objects.filter(resend_of=waiting).exists()
    detail = client.get(reverse("admin:core_outboxmessage_change", args=[failed.pk]))
    assert detail.status_code == 200
