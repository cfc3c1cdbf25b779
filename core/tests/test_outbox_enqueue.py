"""core.services.outbox_enqueue: the message is written in the posting's transaction (a
rolled-back posting leaves none), none without an address, and the workers are asked to
send it only after the commit: by the task's name, a broker error logged and swallowed
(the beat sends it later), and at once without a broker (eager)."""

import logging
from datetime import timedelta

import pytest
from celery import current_app
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from core.models import OutboxKind, OutboxMessage, OutboxStatus
from core.services import outbox_enqueue
from core.services.outbox import OUTBOX_TASK

pytestmark = pytest.mark.django_db


@pytest.fixture
def document(north):
    return north  # any saved row stands for a document here


def test_the_message_names_its_document_and_is_due_at_the_posting_moment(document):
    at = timezone.now() - timedelta(hours=1)
    message = outbox_enqueue(
        kind=OutboxKind.INVOICE, document=document, number="TX-2026-000001", to=" a@b.lk ", at=at
    )
    message.refresh_from_db()
    assert (message.kind, message.document_type, message.document_id, message.number) == (
        "INVOICE",
        "core.Depot",
        document.pk,
        "TX-2026-000001",
    )
    assert (message.to, message.status, message.attempts, message.last_error) == (
        "a@b.lk",
        OutboxStatus.PENDING,
        0,
        "",
    )
    assert message.created_at == message.next_attempt_at == at
    assert message.get_kind_display() == "Tax invoice"
    assert message.get_status_display() == "Waiting to be sent"


@pytest.mark.parametrize("to", ["", "   ", None])
def test_no_address_no_message(document, to):
    assert (
        outbox_enqueue(kind="RECEIPT", document=document, number="PAY-2026-000001", to=to) is None
    )
    assert not OutboxMessage.objects.exists()


def test_a_rolled_back_posting_leaves_no_message_and_sends_nothing(
    document, django_capture_on_commit_callbacks
):
    class Refused(Exception):
        pass

    def posting():
        with transaction.atomic():
            outbox_enqueue(kind="INVOICE", document=document, number="TX-1", to="a@b.lk")
            raise Refused

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(Refused):
        posting()
    assert not OutboxMessage.objects.exists()
    assert callbacks == []


def test_the_send_is_asked_for_after_the_commit_by_the_tasks_name(
    document, django_capture_on_commit_callbacks, monkeypatch
):
    asked = []
    monkeypatch.setitem(current_app.conf, "task_always_eager", False)
    monkeypatch.setattr(current_app, "send_task", lambda name, **kw: asked.append(name))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        outbox_enqueue(kind="INVOICE", document=document, number="TX-1", to="a@b.lk")
    assert asked == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert asked == [OUTBOX_TASK] == ["billing.tasks.outbox_send_due"]


def test_a_broker_that_is_down_does_not_fail_the_committed_posting(
    document, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    def down(name, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setitem(current_app.conf, "task_always_eager", False)
    monkeypatch.setattr(current_app, "send_task", down)
    with (
        caplog.at_level(logging.WARNING, logger="core.services.outbox"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        message = outbox_enqueue(kind="INVOICE", document=document, number="TX-1", to="a@b.lk")
    assert "the beat sends it at its next run" in caplog.text
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING  # due: the beat's run sends it


def test_without_a_broker_the_task_runs_at_once(
    document, django_capture_on_commit_callbacks, monkeypatch
):
    ran = []
    monkeypatch.setitem(current_app.conf, "task_always_eager", True)
    monkeypatch.setattr("billing.services.outbox_send", lambda **kw: ran.append(kw) or 0)
    with django_capture_on_commit_callbacks(execute=True):
        outbox_enqueue(kind="INVOICE", document=document, number="TX-1", to="a@b.lk")
    assert ran == [{}]
