"""A real Celery worker on Redis and PostgreSQL sends the outbox (invariant 13).

A sale is posted while the broker cannot be reached: the posting commits, its invoice's
message waits, nothing is sent. The beat's task then runs on the worker and the e-mail
goes, once, however often the task runs again. With the broker back, a posting's own
request after its commit sends its e-mail, once.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
import redis
from celery import current_app
from django.conf import settings
from django.db import connection
from kombu.exceptions import OperationalError

from billing.services.outbox import message_id
from billing.tasks import outbox_send_due
from core.models import OutboxMessage, OutboxStatus
from sales.services import sale_post


def _database_url():
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class _Worker:
    """One Celery worker process on a queue of its own, with mail written to files."""

    def __init__(self, tmp_path):
        self.queue = f"test-outbox-{uuid.uuid4().hex[:8]}"
        self.mail_dir = tmp_path / "mail"
        self.mail_dir.mkdir()
        self.log = tmp_path / "worker.log"
        self.process = None

    def start(self):
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "REDIS_URL": os.environ["REDIS_URL"],
            "SECRET_KEY": settings.SECRET_KEY,
            "ENV_FILE": "",
            "EMAIL_URL": f"filemail:///{self.mail_dir}",
        }
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own worker
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "hsh_admin",
                    "worker",
                    "--pool=solo",
                    "-Q",
                    self.queue,
                    "-n",
                    f"outbox-{self.queue}@%h",
                    "--loglevel=WARNING",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],
                env=env,
                cwd=settings.BASE_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def mail(self):
        return "".join(p.read_text() for p in sorted(self.mail_dir.iterdir()))

    def output(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_for(self, condition, what, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.05)
        pytest.fail(f"timed out waiting for {what}\n--- worker ---\n{self.output()[-4000:]}")


def _unacked(queue):
    """Tasks a worker took from `queue` and has not acknowledged yet (it acknowledges a
    task when it ends: CELERY_TASK_ACKS_LATE)."""
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    return [
        tag for tag, payload in client.hgetall("unacked").items() if json.loads(payload)[2] == queue
    ]


def _sell(customer, rep, products):
    return sale_post(
        customer=customer,
        sales_rep=rep,
        actor=rep,
        lines=[{"product": products["12.7KG"], "quantity": 1}],
    )


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_invoice_posted_while_the_broker_is_down_is_emailed_once_by_the_beat(
    customer_factory, loaded_vehicle, products, tmp_path, monkeypatch
):
    customer = customer_factory("CASH", email="buyer@example.lk")
    worker = _Worker(tmp_path)
    tasks_asked = []

    def broker_down(name, **kwargs):
        tasks_asked.append(name)
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    try:
        worker.start()
        # Posting while the broker is down: the sale and its message commit; the request
        # for a send fails, is logged, and the posting is not troubled by it.
        with monkeypatch.context() as down:
            down.setattr(current_app, "send_task", broker_down)
            sale = _sell(customer, loaded_vehicle, products)
        assert tasks_asked == ["billing.tasks.outbox_send_due"]
        message = OutboxMessage.objects.get(number=sale.number)
        assert (message.status, message.attempts) == (OutboxStatus.PENDING, 0)

        # The beat's run (every minute) on the worker sends it.
        outbox_send_due.apply_async(queue=worker.queue)
        worker.wait_for(
            lambda: OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.SENT).exists(),
            "the invoice to be sent",
        )
        # ... and later runs, a stray duplicate among them, send nothing more.
        for _ in range(3):
            outbox_send_due.apply_async(queue=worker.queue)
        redis_client = redis.Redis.from_url(os.environ["REDIS_URL"])
        worker.wait_for(
            lambda: redis_client.llen(worker.queue) == 0 and not _unacked(worker.queue),
            "the queue to be worked and every task acknowledged (acks_late: when it ends)",
        )
        mail = worker.mail()
        assert mail.count(f"Message-ID: {message_id(message)}") == 1, mail[:2000]
        assert mail.count("Message-ID: <outbox.") == 1
        assert f"Subject: Tax invoice {sale.number}" in mail
        assert f'filename="{sale.number}.pdf"' in mail
        message.refresh_from_db()
        assert (message.status, message.attempts, message.last_error) == (
            OutboxStatus.SENT,
            1,
            "",
        )

        # The broker is back: the next posting's own request, after its commit, sends it.
        real_send_task = current_app.send_task
        monkeypatch.setattr(
            current_app,
            "send_task",
            lambda name, **kw: real_send_task(name, queue=worker.queue, **kw),
        )
        second = _sell(customer, loaded_vehicle, products)
        worker.wait_for(
            lambda: OutboxMessage.objects.filter(
                number=second.number, status=OutboxStatus.SENT
            ).exists(),
            "the second invoice to be sent right after its commit",
            timeout=30,
        )
        assert worker.mail().count("Message-ID: <outbox.") == 2
        assert "Traceback" not in worker.output(), worker.output()
    finally:
        worker.stop()
        redis.Redis.from_url(os.environ["REDIS_URL"]).delete(worker.queue)
