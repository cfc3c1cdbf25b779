"""billing.services.outbox_send: a due message is sent once, with its PDF and a stable
Message-ID; a failure keeps its reason and is retried later with backoff, FAILED after
OUTBOX_MAX_ATTEMPTS (or at once when the address is refused for good); a message whose
worker died mid-send (lease expired) is taken again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.services import outbox_send
from billing.services.outbox import message_id, retry_delay
from billing.tests.conftest import BACKENDS
from core.models import OutboxMessage, OutboxStatus

pytestmark = pytest.mark.django_db


def _due_now(message):
    """Let the clock reach the message's next attempt."""
    OutboxMessage.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def test_a_due_message_is_sent_once_with_the_pdf_and_a_stable_message_id(enqueue, recording, sale):
    message = enqueue(to="buyer@example.com")
    assert outbox_send() == 1
    assert len(recording) == 1
    email = recording[0]
    assert email.to == ["buyer@example.com"]
    assert sale.number in email.subject
    assert "\n" not in email.subject
    assert sale.customer.name in email.body
    assert email.extra_headers["Message-ID"] == message_id(message)
    assert str(message.key) in message_id(message)
    [(filename, content, mimetype)] = email.attachments
    assert (filename, mimetype) == (f"{sale.number}.pdf", "application/pdf")
    assert content.startswith(b"%PDF")
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.SENT, 1, "")
    assert message.sent_at is not None

    assert outbox_send() == 0  # sent is sent: never again
    assert len(recording) == 1


def test_a_message_not_yet_due_waits(enqueue, recording):
    message = enqueue()
    OutboxMessage.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5)
    )
    assert outbox_send() == 0
    assert recording == []


def test_limit_caps_one_run(enqueue, recording):
    for n in range(3):
        enqueue(to=f"buyer{n}@example.com")
    assert outbox_send(limit=2) == 2
    assert outbox_send(limit=2) == 1
    assert sorted(e.to[0] for e in recording) == [f"buyer{n}@example.com" for n in range(3)]


def test_a_failure_is_kept_with_its_reason_and_retried_later_with_backoff(
    enqueue, settings, recording
):
    message = enqueue()
    settings.EMAIL_BACKEND = BACKENDS + "UnreachableBackend"
    before = timezone.now()
    assert outbox_send() == 0
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 1)
    assert message.last_error == "Could not reach the mail server: [Errno 111] Connection refused"
    assert before + timedelta(minutes=1) <= message.next_attempt_at
    assert message.next_attempt_at <= timezone.now() + timedelta(minutes=1)

    assert outbox_send() == 0  # not due again yet: nothing tried
    message.refresh_from_db()
    assert message.attempts == 1

    _due_now(message)
    assert outbox_send() == 0
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 2)
    assert message.next_attempt_at >= timezone.now() + timedelta(minutes=1, seconds=50)

    settings.EMAIL_BACKEND = BACKENDS + "RecordingBackend"  # the mail server is back
    _due_now(message)
    assert outbox_send() == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.SENT, 3, "")
    assert len(recording) == 1


def test_backoff_doubles_from_a_minute_to_at_most_six_hours():
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert retry_delay(30) == timedelta(hours=6)


def test_failed_after_the_most_attempts(enqueue, settings, recording):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    settings.EMAIL_BACKEND = BACKENDS + "UnreachableBackend"
    message = enqueue()
    for _ in range(3):
        outbox_send()
        _due_now(message)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 3)
    assert "Could not reach the mail server" in message.last_error
    settings.EMAIL_BACKEND = BACKENDS + "RecordingBackend"
    assert outbox_send() == 0  # a failed message waits for head office's resend
    assert recording == []


def test_an_address_refused_for_good_fails_at_once(enqueue, settings):
    settings.EMAIL_BACKEND = BACKENDS + "RefusingBackend"
    message = enqueue(to="nobody@example.com")
    assert outbox_send() == 0
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 1)
    assert message.last_error == (
        "The mail server refused the address nobody@example.com: 550 5.1.1 No such user here"
    )


def test_a_document_that_cannot_be_rendered_is_a_failure_with_its_reason(enqueue, recording):
    message = enqueue()
    OutboxMessage.objects.filter(pk=message.pk).update(document_id=10**9)
    assert outbox_send() == 0
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert message.last_error.startswith("Could not prepare the e-mail: DoesNotExist")


def test_a_message_whose_worker_died_mid_send_is_taken_again_once_its_lease_ends(
    enqueue, recording
):
    message = enqueue()
    # A worker claimed it (attempt 1) and died before it finished: SENDING, leased.
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.SENDING,
        attempts=1,
        next_attempt_at=timezone.now() + timedelta(minutes=5),
    )
    assert outbox_send() == 0  # the lease holds: its worker may still be sending
    assert recording == []

    OutboxMessage.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert outbox_send() == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.SENT, 2, "")
    assert [e.extra_headers["Message-ID"] for e in recording] == [message_id(message)]


def test_a_lost_last_attempt_is_failed_not_sent_again(enqueue, settings, recording):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    message = enqueue()
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.SENDING,
        attempts=2,
        next_attempt_at=timezone.now() - timedelta(seconds=1),
    )
    assert outbox_send() == 0
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 2)
    assert message.last_error == (
        "The worker sending attempt 2 stopped before it finished (it may have been sent). "
        "It is not tried again."
    )
    assert recording == []


def test_a_claim_is_leased_and_committed_before_the_mail_server_is_asked(
    enqueue, settings, monkeypatch
):
    """What the mail server sees happens after the claim: if the worker dies during the
    send, the row says SENDING, with a lease, so another worker takes it later."""
    settings.OUTBOX_LEASE_SECONDS = 120
    message = enqueue()
    seen = {}

    from billing.tests.conftest import RecordingBackend

    def spy(self, emails):
        row = OutboxMessage.objects.get(pk=message.pk)
        seen.update(status=row.status, attempts=row.attempts, lease=row.next_attempt_at)
        return len(emails)

    monkeypatch.setattr(RecordingBackend, "send_messages", spy)
    settings.EMAIL_BACKEND = BACKENDS + "RecordingBackend"
    assert outbox_send() == 1
    assert (seen["status"], seen["attempts"]) == (OutboxStatus.SENDING, 1)
    lease = seen["lease"] - timezone.now()
    assert timedelta(seconds=100) < lease <= timedelta(seconds=120)


def test_a_mail_server_answer_is_the_reason_and_is_tried_again(enqueue, settings, monkeypatch):
    import smtplib

    from billing.tests.conftest import RecordingBackend

    def rejects(self, emails):
        raise smtplib.SMTPDataError(451, b"4.3.0 Try again later")

    monkeypatch.setattr(RecordingBackend, "send_messages", rejects)
    settings.EMAIL_BACKEND = BACKENDS + "RecordingBackend"
    message = enqueue()
    assert outbox_send() == 0
    message.refresh_from_db()
    assert (message.status, message.last_error) == (
        OutboxStatus.PENDING,
        "The mail server answered 451: 4.3.0 Try again later",
    )


def test_a_send_that_outlived_its_lease_is_counted_and_logged(
    enqueue, settings, monkeypatch, caplog
):
    """The worker was slower than its lease and another worker took the message over:
    ours was accepted all the same, and the row is left to the other worker."""
    from billing.tests.conftest import RecordingBackend

    message = enqueue()

    def slow(self, emails):
        OutboxMessage.objects.filter(pk=message.pk).update(attempts=2)  # taken over
        return len(emails)

    monkeypatch.setattr(RecordingBackend, "send_messages", slow)
    settings.EMAIL_BACKEND = BACKENDS + "RecordingBackend"
    assert outbox_send() == 1
    assert "after its lease ran out" in caplog.text
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENDING, 2)
