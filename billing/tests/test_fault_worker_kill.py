"""Celery workers killed with SIGKILL (issue 19): during the monthly statement run, and
during the outbox's sending. Nothing is lost and nothing goes twice.

Real workers on Redis and PostgreSQL, each a prefork pool of two processes in a process
group of its own; the kill is SIGKILL to the whole group (the pool's parent and its
children at once, as when the machine or its container dies). A fresh worker and the
beat's pick-ups then finish the work: statement_runs_resume hands the run on (it skips
the customers already done: one statement per customer and run, unique in the
database), and outbox_send_due takes again a message whose sender's lease ran out.

What "once" means at the mail server (billing/services/outbox.py): a message is claimed
(SENDING, with a lease) before it is sent and marked SENT the moment the server accepted
it; a message SENT is never sent again, one waiting is sent once. The one message a
worker dies with between the server's accept and that commit is sent again, with the
same Message-ID, so the recipient's server can drop the repeat. The second test kills the
worker at exactly that moment; the first at whatever moment it reaches.
"""

import contextlib
import email
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from celery import current_app
from django.conf import settings
from django.db import connection
from django.utils import timezone

from billing.models import CustomerStatement, StatementRun, StatementRunStatus
from billing.services import statement_runs_resume
from billing.services.outbox import message_id
from billing.services.statement_run import previous_month
from billing.tasks import outbox_send_due, statement_run_monthly
from billing.tests.statement_run_fixtures import last_month_moment
from core.models import OutboxKind, OutboxMessage, OutboxStatus
from sales.models import Customer
from sales.services import sale_post
from stock.services import distribution_create, stock_receive

LEASE_SECONDS = 8  # the workers' OUTBOX_LEASE_SECONDS: well above one message's send
CUSTOMERS = 80  # statements in the run: the kill comes a fifth of the way through
INVOICES = 40  # invoices in the outbox: the kill comes at the middle one
MAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"  # after each message Django's file backend writes


def _database_url():
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _group_running(pgid):
    """Pids of the processes of group `pgid` that still run (a zombie no longer does)."""
    proc = Path("/proc")
    if not proc.is_dir():  # pragma: no cover - not Linux: ask the group as a whole
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        return [pgid]
    running = []
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # ended meanwhile
            continue
        state, _parent, group = fields[:3]
        if int(group) == pgid and state not in ("Z", "X"):
            running.append(int(stat.parent.name))
    return running


def _other_sessions():
    """The server pids of the sessions on the test database other than this test's own."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {pid for (pid,) in cursor.fetchall()}


class _Workers:
    """Celery workers (prefork, two processes each, a process group each) on one queue
    of our own, sending the tasks they send (a statement's e-mail, the run itself) to
    it too, with mail written to files (billing.tests.fault_mail)."""

    def __init__(self, tmp_path):
        self.queue = f"test-fault-{uuid.uuid4().hex[:8]}"
        self.mail_dir = tmp_path / "mail"
        self.mail_dir.mkdir()
        self.log = tmp_path / "workers.log"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "billing.tests.fault_settings",
            "DATABASE_URL": _database_url(),
            "REDIS_URL": os.environ["REDIS_URL"],
            "MEDIA_ROOT": str(tmp_path / "media"),
            "SECRET_KEY": settings.SECRET_KEY,
            "ENV_FILE": "",
            "EMAIL_URL": f"filemail:///{self.mail_dir}",
            "OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
        }
        self.env.pop("FAULT_CUT_AFTER_MESSAGE_ID", None)
        self.processes = []
        self.sessions_before = _other_sessions()  # none, unless a test before left some

    def start(self, name, **env):
        with open(self.log, "ab") as log:
            process = subprocess.Popen(  # noqa: S603 - our own worker
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "hsh_admin",
                    "worker",
                    "--pool=prefork",
                    "--concurrency=2",
                    "-Q",
                    self.queue,
                    "-n",
                    f"{name}-{self.queue}@%h",
                    "--loglevel=WARNING",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "--",
                    f"task.default_queue={self.queue}",
                ],
                env={**self.env, **env},
                cwd=settings.BASE_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the kill takes it whole
            )
        self.processes.append(process)
        return process

    def kill(self, process):
        """SIGKILL to the worker's process group: the parent and its pool's children."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        self.wait_gone(process)

    def wait_gone(self, process):
        """Until the worker's processes are gone, and with them their database sessions:
        what was already sent to PostgreSQL (a COMMIT) has been done, an open
        transaction rolled back; what the database says now is what the kill left."""
        _wait_for(lambda: not _group_running(process.pid), 10, "the worker's processes", self)
        _wait_for(
            lambda: _other_sessions() <= self.sessions_before,
            10,
            "the worker's database sessions to end",
            self,
        )

    def stop(self):
        for process in self.processes:
            if _group_running(process.pid):
                os.killpg(process.pid, signal.SIGTERM)  # a warm shutdown
        for process in self.processes:
            deadline = time.monotonic() + 20
            while _group_running(process.pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # whatever did not stop
            if process.poll() is None:
                process.wait(timeout=10)
        left = {p.pid: _group_running(p.pid) for p in self.processes}
        assert not any(left.values()), f"worker processes left running: {left}"

    def mails(self):
        """({Message-ID: complete copies}, messages cut off mid-write): each file holds
        the messages of one connection, each followed by the separator once written."""
        copies = Counter()
        cut = 0
        for path in sorted(self.mail_dir.iterdir()):
            *written, rest = path.read_bytes().split(MAIL_SEPARATOR)
            for raw in written:
                copies[email.message_from_bytes(raw)["Message-ID"]] += 1
            cut += bool(rest.strip())
        return copies, cut

    def mail_text(self):
        return "".join(p.read_text() for p in sorted(self.mail_dir.iterdir()))

    def output(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _wait_for(condition, timeout, what, workers):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    runs = list(StatementRun.objects.values("status", "customers_done", "last_error"))
    outbox = Counter(OutboxMessage.objects.values_list("status", flat=True))
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    pytest.fail(
        f"timed out waiting for {what}\nruns: {runs}\noutbox: {dict(outbox)}\n"
        f"queued: {client.llen(workers.queue)}, unacked: {len(_unacked(workers.queue))}\n"
        f"--- workers ---\n{workers.output()[-4000:]}"
    )


def _unacked(queue):
    """The messages a worker took from `queue` and has not acknowledged: {tag: raw}
    (acks_late: a task is acknowledged when it ends, so a killed worker's stay)."""
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    found = {}
    for tag, payload in client.hgetall("unacked").items():
        raw, _exchange, routing_key = json.loads(payload)
        if routing_key == queue:
            found[tag.decode()] = raw
    return found


def _redeliver(tags):
    """What Redis does with a dead worker's unacknowledged messages once their
    visibility timeout has passed: put them back on their queue."""
    from hsh_admin.celery import app

    with app.connection_for_write() as broker:
        for tag in tags:
            broker.default_channel.qos.restore_by_tag(tag)


def _all_worked(workers):
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    return client.llen(workers.queue) == 0 and not _unacked(workers.queue)


def _wait_out_leases(messages):
    """Until the lease of every message left SENDING (by the killed worker) has run out."""
    ends = messages.filter(status=OutboxStatus.SENDING).values_list("next_attempt_at", flat=True)
    if ends:
        time.sleep(max(0.0, (max(ends) - timezone.now()).total_seconds() + 0.2))


def _check_once(messages, sending_at_kill, copies):
    """Every message was delivered; once, but for one a worker died sending (which may
    have reached the mail server too: then twice, under the same Message-ID). Returns
    the Message-IDs delivered twice."""
    twice = []
    for message in messages:
        assert message.status == OutboxStatus.SENT, (message.number, message.last_error)
        delivered = copies[message_id(message)]
        if message.pk in sending_at_kill:
            assert 1 <= delivered <= 2, (message.number, delivered)
            assert message.attempts == 2, (message.number, message.attempts)
            if delivered == 2:
                twice.append(message_id(message))
        else:
            assert delivered == 1, (message.number, delivered)
            assert message.attempts == 1, (message.number, message.attempts)
    assert set(copies) == {message_id(m) for m in messages}  # nothing else was sent
    return twice


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_statement_run_whose_worker_is_killed_issues_and_mails_each_statement_once(
    north, tmp_path, monkeypatch
):
    moment = last_month_moment()
    Customer.objects.bulk_create(
        Customer(
            code=f"K{n:04d}",
            name=f"Killed run {n}",
            depot=north,
            payment_type="CREDIT",
            email=f"k{n:04d}@statements.example",
            created_at=moment,
        )
        for n in range(CUSTOMERS)
    )
    emails = dict(Customer.objects.filter(code__startswith="K").values_list("pk", "email"))
    workers = _Workers(tmp_path)
    try:
        # Worker A takes the beat's monthly run (day 1), which hands the run to the
        # workers; while one process issues statements, the other e-mails them (each
        # statement's commit asks for a send). A third of the way in, the machine dies.
        first = workers.start("a")
        statement_run_monthly.apply_async(queue=workers.queue)
        statements = CustomerStatement.objects.filter(run__month=previous_month())
        mailed = OutboxMessage.objects.filter(kind=OutboxKind.STATEMENT)
        _wait_for(
            lambda: (
                statements.count() >= CUSTOMERS // 5
                and mailed.filter(status=OutboxStatus.SENT).exists()
            ),
            90,
            "the run to be under way and its e-mails going",
            workers,
        )
        workers.kill(first)
        run = StatementRun.objects.get(month=previous_month())
        issued = statements.count()
        at_kill = dict(mailed.values_list("pk", "status"))
        sending_at_kill = {pk for pk, status in at_kill.items() if status == OutboxStatus.SENDING}
        print(
            f"\nworker A killed with {issued} of {CUSTOMERS} statements issued, "
            f"{list(at_kill.values()).count(OutboxStatus.SENT)} e-mailed, "
            f"{len(sending_at_kill)} being sent"
        )
        assert run.status == StatementRunStatus.RUNNING
        assert 0 < issued < CUSTOMERS
        assert len(at_kill) == issued  # each statement's e-mail committed with it
        assert len(sending_at_kill) <= 2  # one per process of the pool, at most
        unacked = _wait_for(lambda: _unacked(workers.queue), 5, "the unacked run", workers)

        # Worker B starts; the beat's pick-ups (here with the run's stall time and the
        # killed sender's lease already over) hand it the run and the outbox.
        workers.start("b")
        _wait_out_leases(mailed)
        real_send_task = current_app.send_task
        monkeypatch.setattr(
            current_app,
            "send_task",
            lambda name, *args, **kw: real_send_task(name, *args, **{**kw, "queue": workers.queue}),
        )
        monkeypatch.setattr("billing.services.statement_run.STALLED_AFTER", timedelta(0))
        assert statement_runs_resume() == [run.pk]
        outbox_send_due.apply_async(queue=workers.queue)
        _wait_for(
            lambda: (
                StatementRun.objects.filter(pk=run.pk, status=StatementRunStatus.DONE).exists()
                and mailed.count() == CUSTOMERS
                and not mailed.exclude(status=OutboxStatus.SENT).exists()
            ),
            180,
            "the run to be done and every statement e-mailed",
            workers,
        )

        # Much later Redis puts the killed worker's messages back (visibility timeout)
        # and the beat runs the month again: nothing is issued or sent again.
        _redeliver(unacked)
        statement_run_monthly.apply_async(queue=workers.queue)
        outbox_send_due.apply_async(queue=workers.queue)
        _wait_for(lambda: _all_worked(workers), 60, "every task worked and acked", workers)

        per_customer = Counter(statements.values_list("customer_id", flat=True))
        assert per_customer == Counter(dict.fromkeys(emails, 1))  # each customer once
        run.refresh_from_db()
        assert (run.status, run.customers_total, run.customers_done, run.emailed) == (
            StatementRunStatus.DONE,
            CUSTOMERS,
            CUSTOMERS,
            CUSTOMERS,
        )
        assert run.last_error == ""
        messages = list(mailed)
        by_statement = {m.document_id: m for m in messages}
        assert len(messages) == len(by_statement) == CUSTOMERS  # one e-mail per statement
        for statement in statements.select_related("customer"):
            assert by_statement[statement.pk].to == emails[statement.customer_id]
        copies, cut = workers.mails()
        twice = _check_once(messages, sending_at_kill, copies)
        assert cut <= len(sending_at_kill)  # only a message being written can be cut off
        print(f"e-mails: {sum(copies.values())}; twice (same Message-ID): {len(twice)}")
        assert "Traceback" not in workers.output(), workers.output()
    finally:
        workers.stop()
        redis.Redis.from_url(os.environ["REDIS_URL"]).delete(workers.queue)


def _invoices(north, head_office, sales_rep, customer_factory, products, monkeypatch):
    """INVOICES cash sales of one cylinder, each with its invoice's e-mail waiting in
    the outbox (nothing asked of the workers yet)."""
    monkeypatch.setattr("core.services.outbox.outbox_send_soon", lambda: None)
    cylinder = products["12.7KG"]
    stock_receive(depot=north, product=cylinder, quantity=INVOICES, actor=head_office)
    distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cylinder,
        quantity=INVOICES,
        kind="COLLECTION",
        actor=head_office,
    )
    customer = customer_factory("CASH", email="buyer@invoices.example")
    for _ in range(INVOICES):
        sale_post(
            customer=customer,
            sales_rep=sales_rep,
            actor=sales_rep,
            lines=[{"product": cylinder, "quantity": 1}],
        )
    assert customer.transactions.count() == INVOICES
    return OutboxMessage.objects.filter(kind=OutboxKind.INVOICE)


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_outbox_whose_worker_is_killed_mid_send_mails_each_invoice_once(
    north, head_office, sales_rep, customer_factory, products, tmp_path, monkeypatch
):
    outbox = _invoices(north, head_office, sales_rep, customer_factory, products, monkeypatch)
    queue = list(outbox.order_by("next_attempt_at", "pk"))
    assert len(queue) == INVOICES
    victim = queue[INVOICES // 2]
    workers = _Workers(tmp_path)
    try:
        # Worker A's two processes send the outbox (the beat's run and a posting's
        # request, one each). The moment the middle invoice's e-mail is written, before
        # its row can say SENT, the machine dies.
        first = workers.start("a", FAULT_CUT_AFTER_MESSAGE_ID=message_id(victim))
        for _ in range(2):
            outbox_send_due.apply_async(queue=workers.queue)
        first.wait(timeout=120)
        assert first.returncode == -signal.SIGKILL, workers.output()
        workers.wait_gone(first)
        at_kill = dict(outbox.values_list("pk", "status"))
        sending_at_kill = {pk for pk, status in at_kill.items() if status == OutboxStatus.SENDING}
        sent_at_kill = {pk for pk, status in at_kill.items() if status == OutboxStatus.SENT}
        print(
            f"\nworker A killed with {len(sent_at_kill)} of {INVOICES} invoices sent, "
            f"{len(sending_at_kill)} being sent"
        )
        assert victim.pk in sending_at_kill
        assert len(sending_at_kill) <= 2  # one per process of the pool, at most
        assert 0 < len(sent_at_kill) < INVOICES - 1
        copies, _cut = workers.mails()
        assert copies[message_id(victim)] == 1  # it reached the "mail server"
        unacked = _wait_for(lambda: _unacked(workers.queue), 5, "the unacked tasks", workers)

        # Worker B; once the dead sender's lease is over the beat's next run sends the
        # rest, and the victim again (it cannot know the first copy went).
        workers.start("b")
        _wait_out_leases(outbox)
        outbox_send_due.apply_async(queue=workers.queue)
        _wait_for(
            lambda: not outbox.exclude(status=OutboxStatus.SENT).exists(),
            120,
            "every invoice to be sent",
            workers,
        )
        # The killed worker's tasks come back (visibility timeout), the beat runs again:
        # nothing more is sent.
        _redeliver(unacked)
        outbox_send_due.apply_async(queue=workers.queue)
        _wait_for(lambda: _all_worked(workers), 60, "every task worked and acked", workers)

        messages = list(outbox)
        copies, cut = workers.mails()
        twice = _check_once(messages, sending_at_kill, copies)
        assert message_id(victim) in twice  # the one the design allows, recognisable
        assert cut <= len(sending_at_kill) - 1  # the victim was written whole
        text = workers.mail_text()
        for message in messages:  # each invoice in its own e-mail, its PDF attached
            assert (
                text.count(f"Subject: Tax invoice {message.number} ") == copies[message_id(message)]
            )
            assert text.count(f'filename="{message.number}.pdf"') == copies[message_id(message)]
        victim.refresh_from_db()
        assert victim.sent_at is not None
        print(f"e-mails: {sum(copies.values())}; twice (same Message-ID): {len(twice)}")
        assert "Traceback" not in workers.output(), workers.output()
    finally:
        workers.stop()
        redis.Redis.from_url(os.environ["REDIS_URL"]).delete(workers.queue)
