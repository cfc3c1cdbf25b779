"""Celery beat sends the outbox every minute (migration billing 0001), through the task
a posting asks for by name after its commit."""

import pytest
from celery import current_app
from django_celery_beat.models import PeriodicTask

from core.services.outbox import OUTBOX_TASK

pytestmark = pytest.mark.django_db


def test_beat_runs_the_outbox_task_every_minute():
    entry = PeriodicTask.objects.get(task=OUTBOX_TASK)
    assert entry.enabled
    assert (entry.interval.every, entry.interval.period) == (1, "minutes")


def test_the_task_a_posting_names_is_the_workers():
    current_app.loader.import_default_modules()  # what a worker does when it starts
    from billing.tasks import outbox_send_due

    assert current_app.tasks[OUTBOX_TASK] is outbox_send_due._get_current_object()
