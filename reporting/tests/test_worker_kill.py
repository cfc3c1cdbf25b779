"""A Celery worker killed (SIGKILL) in the middle of a scheduled export.

Real worker processes on Redis and PostgreSQL: the job is left RUNNING with attempt 1;
the periodic requeue (what celery beat runs every minute) hands it to a fresh worker once
its heartbeat is stale; that worker builds it again (attempt 2) and e-mails it once. The
killed worker's message, which Redis would put back after its visibility timeout, is put
back then, and changes nothing.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from datetime import timedelta
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from reporting.models import ExportJob, JobStatus, ReportSchedule
from reporting.services import heartbeat_every, schedule_save
from reporting.tasks import export_job_run, export_jobs_requeue_stale, schedule_run
from sales.models import Customer, Transaction, TransactionLine
from stock.models import Product

STALE_SECONDS = 3
TRANSACTIONS = 16_000  # five lines each: an XLSX build of some seconds


def test_a_running_export_reports_well_within_the_stale_time(settings):
    settings.EXPORT_JOB_STALE_SECONDS = 300
    assert heartbeat_every() == timedelta(seconds=5)
    settings.EXPORT_JOB_STALE_SECONDS = STALE_SECONDS
    assert heartbeat_every() == timedelta(seconds=1)


def _database_url():
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class _Workers:
    """Celery worker processes on one queue of our own, with mail written to files."""

    def __init__(self, tmp_path):
        self.queue = f"test-kill-{uuid.uuid4().hex[:8]}"
        self.mail_dir = tmp_path / "mail"
        self.mail_dir.mkdir()
        self.log = tmp_path / "workers.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "REDIS_URL": os.environ["REDIS_URL"],
            "MEDIA_ROOT": str(tmp_path / "media"),
            "SECRET_KEY": settings.SECRET_KEY,
            "ENV_FILE": "",
            "EXPORT_JOB_STALE_SECONDS": str(STALE_SECONDS),
            "EXPORT_EMAIL_MAX_BYTES": "1000",  # a link, not a 3 MB attachment
            "EMAIL_URL": f"filemail:///{self.mail_dir}",
        }
        self.processes = []

    def start(self, name):
        with open(self.log, "ab") as log:
            process = subprocess.Popen(  # noqa: S603 - our own worker
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
                    f"{name}-{self.queue}@%h",
                    "--loglevel=WARNING",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    # Celery configuration after "--": tasks these workers send (the
                    # requeue's) go to this queue too, not to the shared default one.
                    "--",
                    f"task.default_queue={self.queue}",
                ],
                env=self.env,
                cwd=settings.BASE_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def mails(self):
        return [p.read_text() for p in sorted(self.mail_dir.iterdir())]

    def output(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _unacked(queue):
    """The messages a worker took from `queue` and has not acknowledged: {tag: raw}."""
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    found = {}
    for tag, payload in client.hgetall("unacked").items():
        raw, _exchange, routing_key = json.loads(payload)
        if routing_key == queue:
            found[tag.decode()] = raw
    return found


def _wait_for(condition, timeout, what, workers):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}\n--- workers ---\n{workers.output()[-4000:]}")


def _register(north, sales_rep, head_office):
    """TRANSACTIONS sales of a line per cylinder product: one made through the ORM, the
    rest copied from it by SQL (fast, and whatever columns the tables have)."""
    customer = Customer.objects.create(code="BIGBUYER", name="Big buyer", depot=north)
    template = Transaction.objects.create(
        number="KILL-0",
        customer=customer,
        sales_rep=sales_rep,
        depot=north,
        payment_type="CASH",
        total_amount=Decimal("100.00"),
        amount_paid=Decimal("100.00"),
        is_paid=True,
        created_by=sales_rep,
    )
    cylinder = Product.objects.filter(kind="CYLINDER").first()
    line = TransactionLine.objects.create(
        transaction=template,
        product=cylinder,
        quantity=1,
        empties_returned=1,
        rate=Decimal("20.00"),
        subtotal=Decimal("20.00"),
    )

    def copied(model, *own):
        return ", ".join(
            f.column
            for f in model._meta.concrete_fields
            if not f.primary_key and f.column not in own and f.column != "idempotency_key"
        )

    sale_columns = copied(Transaction, "number", "created_at")
    line_columns = copied(TransactionLine, "transaction_id", "product_id")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO sales_transaction (number, created_at, {sale_columns})
            SELECT 'KILL-' || g, now() - (g || ' seconds')::interval, {sale_columns}
            FROM sales_transaction, generate_series(1, %s) g WHERE id = %s
            """,  # noqa: S608 - column names from the models
            [TRANSACTIONS - 1, template.pk],
        )
        cursor.execute(
            f"""
            INSERT INTO sales_transactionline (transaction_id, product_id, {line_columns})
            SELECT t.id, p.id, {", ".join(f"l.{c.strip()}" for c in line_columns.split(","))}
            FROM sales_transaction t CROSS JOIN stock_product p
                 CROSS JOIN sales_transactionline l
            WHERE t.number LIKE 'KILL-%%' AND p.kind = 'CYLINDER' AND l.id = %s
                  AND NOT (t.id = %s AND p.id = %s)
            """,  # noqa: S608 - column names from the models
            [line.pk, template.pk, cylinder.pk],
        )
        cursor.execute("SELECT count(*) FROM sales_transactionline")
        return cursor.fetchone()[0]


def _xlsx_rows(content: bytes) -> int:
    """Rows in the first sheet of an XLSX file, the heading row included."""
    with zipfile.ZipFile(BytesIO(content)) as book:
        sheet = book.read("xl/worksheets/sheet1.xml")
    return len(re.findall(rb"<row ", sheet))


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_killed_mid_export_leaves_a_job_another_worker_finishes_once(
    north, sales_rep, head_office, manager, client, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"  # the download view reads the workers' files
    rows = _register(north, sales_rep, head_office)
    schedule = ReportSchedule(
        name="Register",
        owner=head_office,
        report="sales-register",
        format="xlsx",
        recipients="boss@example.lk",
    )
    schedule_save(schedule=schedule)
    workers = _Workers(tmp_path)
    run_key = f"beat-{uuid.uuid4()}"
    try:
        # Worker A takes the scheduled run (as celery beat would send it) and dies in
        # the middle of writing the file: running, rows reported, not finished.
        first = workers.start("a")
        schedule_run.apply_async(args=[schedule.pk], queue=workers.queue, task_id=run_key)
        job = _wait_for(
            lambda: ExportJob.objects.filter(
                run_key=run_key, status=JobStatus.RUNNING, progress__gt=0
            ).first(),
            40,
            "the export to be running",
            workers,
        )
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed_at = time.monotonic()
        job.refresh_from_db()
        assert (job.status, job.attempts) == (JobStatus.RUNNING, 1)
        assert 0 < job.progress < rows
        print(f"\nworker A killed at row {job.progress:,} of {rows:,}")
        assert job.emailed_at is None
        # acks_late: the killed worker never acknowledged its message; Redis keeps it
        # (and would deliver it again after the visibility timeout).
        unacked = _wait_for(lambda: _unacked(workers.queue), 5, "the unacked message", workers)
        assert len(unacked) == 1

        # Worker B starts; once the dead job's heartbeat is stale, the requeue that
        # beat runs every minute hands it over.
        workers.start("b")
        stale_at = job.heartbeat_at + timedelta(seconds=STALE_SECONDS + 0.5)
        time.sleep(max(0.0, (stale_at - timezone.now()).total_seconds()))
        export_jobs_requeue_stale.apply_async(queue=workers.queue)
        job = _wait_for(
            lambda: ExportJob.objects.filter(
                pk=job.pk, status__in=[JobStatus.DONE, JobStatus.FAILED], emailed_at__isnull=False
            ).first(),
            60,
            "the export to be finished and e-mailed",
            workers,
        )
        assert job.status == JobStatus.DONE, job.error
        print(
            f"worker B finished attempt {job.attempts} "
            f"{time.monotonic() - killed_at:.1f}s after the kill"
        )
        assert (job.attempts, job.row_count, job.error) == (2, rows, "")
        assert job.file.name.endswith(f"sales-register-{job.pk}-2.xlsx")
        exports = [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]
        assert [p.name for p in exports] == [Path(job.file.name).name]  # no half file

        # One e-mail, with a link that downloads the whole register. (The job is claimed
        # for e-mailing just before the message is written.)
        _wait_for(lambda: "token=" in "".join(workers.mails()), 10, "the e-mail", workers)
        mails = workers.mails()
        assert len(mails) == 1, mails
        assert "Subject: Register: Sales register" in mails[0]
        link = urlsplit(re.search(r"https?://\S+/download/\?token=\S+", mails[0]).group(0))
        client.force_login(manager)  # a colleague the report was sent to, with its link
        response = client.get(f"{link.path}?{link.query}")
        assert response.status_code == 200
        content = b"".join(response.streaming_content)
        assert _xlsx_rows(content) == rows + 1  # and the heading

        # Later, Redis gives the killed worker's message back (visibility timeout), and
        # the requeue and a stray duplicate run too: nothing is built or sent again.
        from hsh_admin.celery import app

        with app.connection_for_write() as broker:
            for tag in unacked:
                broker.default_channel.qos.restore_by_tag(tag)
        export_job_run.apply_async(args=[job.pk], queue=workers.queue)
        export_jobs_requeue_stale.apply_async(queue=workers.queue)
        marker = ExportJob.objects.create(
            requested_by=head_office, report="receivables", format="csv"
        )
        export_job_run.apply_async(args=[marker.pk], queue=workers.queue)
        _wait_for(  # the queue is worked in order: everything before the marker ran
            lambda: ExportJob.objects.filter(pk=marker.pk, status=JobStatus.DONE).exists(),
            30,
            "the marker job",
            workers,
        )
        _wait_for(lambda: not _unacked(workers.queue), 5, "every message acknowledged", workers)
        assert redis.Redis.from_url(os.environ["REDIS_URL"]).llen(workers.queue) == 0
        again = ExportJob.objects.get(pk=job.pk)
        assert (again.attempts, again.finished_at, again.emailed_at) == (
            2,
            job.finished_at,
            job.emailed_at,
        )
        assert ExportJob.objects.filter(run_key=run_key).count() == 1
        assert len(workers.mails()) == 1
        assert "Traceback" not in workers.output(), workers.output()
    finally:
        workers.stop()
        redis.Redis.from_url(os.environ["REDIS_URL"]).delete(workers.queue)
