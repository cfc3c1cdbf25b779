"""A real Celery worker on Redis and PostgreSQL runs a statement run that was started
while the broker could not be reached: the start commits and the run waits (QUEUED); the
beat's pick-up hands it to the worker, which issues every statement; the outbox's task on
the worker then e-mails each statement once."""

import os
from datetime import timedelta

import pytest
import redis
from celery import current_app
from kombu.exceptions import OperationalError

from billing.models import CustomerStatement, StatementRun, StatementRunStatus
from billing.services import statement_run_start, statement_runs_resume
from billing.services.outbox import message_id
from billing.services.statement_run import previous_month
from billing.tasks import outbox_send_due
from billing.tests.test_outbox_worker import _Worker
from core.models import OutboxKind, OutboxMessage, OutboxStatus

pytest_plugins = ["billing.tests.statement_run_fixtures"]


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_run_started_while_the_broker_is_down_is_run_by_a_worker_and_mailed_once(
    book, head_office, tmp_path, monkeypatch
):
    worker = _Worker(tmp_path)
    asked = []

    def broker_down(name, **kwargs):
        asked.append(name)
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    try:
        worker.start()
        with monkeypatch.context() as down:
            down.setattr(current_app, "send_task", broker_down)
            run = statement_run_start(month=previous_month(), actor=head_office)
        assert asked == ["billing.tasks.statement_run_work"]
        run.refresh_from_db()
        assert run.status == StatementRunStatus.QUEUED

        # The broker is back; the beat's pick-up finds the waiting run.
        real_send_task = current_app.send_task
        monkeypatch.setattr(
            current_app,
            "send_task",
            lambda name, *args, **kw: real_send_task(name, *args, **{**kw, "queue": worker.queue}),
        )
        monkeypatch.setattr("billing.services.statement_run.QUEUED_AFTER", timedelta(0))
        assert statement_runs_resume() == [run.pk]
        worker.wait_for(
            lambda: StatementRun.objects.filter(pk=run.pk, status=StatementRunStatus.DONE).exists(),
            "the run to be done by the worker",
            timeout=120,
        )
        assert CustomerStatement.objects.filter(run=run).count() == 4

        outbox_send_due.apply_async(queue=worker.queue)
        statements = OutboxMessage.objects.filter(kind=OutboxKind.STATEMENT)
        worker.wait_for(
            lambda: not statements.exclude(status=OutboxStatus.SENT).exists(),
            "the statements to be e-mailed",
        )
        mail = worker.mail()
        assert sorted(statements.values_list("to", flat=True)) == [
            "mail@harbour.example",
            "owing@harbour.example",
        ]
        for message in statements:
            assert mail.count(f"Message-ID: {message_id(message)}") == 1
            assert f'filename="{message.number}.pdf"' in mail
        assert "Traceback" not in worker.output(), worker.output()
    finally:
        worker.stop()
        client = redis.Redis.from_url(os.environ["REDIS_URL"])
        client.delete(worker.queue, "celery")  # and what postings asked of the default queue
