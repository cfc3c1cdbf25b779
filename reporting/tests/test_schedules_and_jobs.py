"""Schedules on celery beat, export jobs that survive a dead worker, flat memory."""

import csv
import io
import os
import signal
import subprocess
import sys
import time
import tracemalloc
import uuid
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from reporting.models import ExportJob, JobStatus, ReportSchedule
from reporting.services import (
    export_job_build,
    export_job_email,
    export_jobs_requeue_stale,
    resolve_period,
    schedule_save,
)
from reporting.tasks import schedule_run


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("yesterday", ("2026-11-24", "2026-11-24")),
        ("last_week", ("2026-11-16", "2026-11-22")),
        ("last_month", ("2026-10-01", "2026-10-31")),
        ("month_to_date", ("2026-11-01", "2026-11-25")),
    ],
)
def test_relative_periods(period, expected):
    resolved = resolve_period(period, today=date(2026, 11, 25))
    assert (resolved["date_from"], resolved["date_to"]) == expected


@pytest.mark.django_db
def test_saving_a_schedule_creates_its_beat_entry(manager, history):
    schedule = ReportSchedule(
        name="Monday sales",
        owner=manager,
        report="sales-summary",
        period="last_week",
        recipients="boss@example.lk, ops@example.lk",
        hour="6",
        day_of_week="1",
    )
    schedule_save(schedule=schedule)
    task = PeriodicTask.objects.get(pk=schedule.periodic_task_id)
    assert (task.task, task.args, task.enabled) == (
        "reporting.tasks.schedule_run",
        f"[{schedule.pk}]",
        True,
    )
    assert (task.crontab.hour, task.crontab.day_of_week) == ("6", "1")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"recipients": "not-an-address"}, "recipients"),
        ({"hour": "25"}, "hour"),
        ({"report": "nonsense"}, "report"),
        ({"filters": {"depot": "SOUTH"}}, "depot"),
    ],
)
def test_a_bad_schedule_is_refused(manager, history, change, field):
    from django.core.exceptions import ValidationError

    fields = {
        "name": "x",
        "owner": manager,
        "report": "sales-register",
        "recipients": "a@example.lk",
        **change,
    }
    schedule = ReportSchedule(**fields)
    with pytest.raises(ValidationError) as exc:
        schedule_save(schedule=schedule)
    assert field in exc.value.message_dict
    assert not PeriodicTask.objects.filter(name__startswith="report schedule").exists()


@pytest.mark.django_db
def test_a_schedule_due_now_sends_one_email_with_the_file(manager, history):
    from django_celery_beat.schedulers import ModelEntry

    schedule = ReportSchedule(
        name="Meter readings",
        owner=manager,
        report="meter-sales",
        recipients="boss@example.lk",
        minute="*",
        hour="*",
    )
    schedule_save(schedule=schedule)
    task = PeriodicTask.objects.get(pk=schedule.periodic_task_id)
    task.last_run_at = timezone.now() - timedelta(minutes=2)
    task.save()
    entry = ModelEntry(task)
    assert entry.is_due()[0]  # celery beat would send it now
    schedule_run.apply(args=entry.args).get()  # what the worker then runs
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["boss@example.lk"]
    assert message.subject == "Meter readings: Meter sales"
    ((name, content, mimetype),) = message.attachments
    assert name.startswith("meter-sales-")
    assert name.endswith(".csv")
    assert mimetype == "text/csv"
    rows = list(
        csv.reader(io.StringIO(content.decode() if isinstance(content, bytes) else content))
    )
    assert [r[8] for r in rows[1:]] == ["160.00", "100.00"]  # newest first
    job = ExportJob.objects.get()
    assert export_job_email(job=job) is False  # a second attempt sends nothing
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_large_file_is_sent_as_a_link(manager, history, settings):
    settings.EXPORT_EMAIL_MAX_BYTES = 10
    schedule = ReportSchedule(
        name="Register", owner=manager, report="sales-register", recipients="boss@example.lk"
    )
    schedule_save(schedule=schedule)
    schedule_run.apply(args=[schedule.pk]).get()
    (message,) = mail.outbox
    assert message.attachments == []
    job = ExportJob.objects.get()
    assert f"/admin/reports/jobs/{job.pk}/download/" in message.body


@pytest.mark.django_db
def test_a_job_is_built_once_and_a_dead_workers_job_is_taken_over(manager, history):
    job = ExportJob.objects.create(requested_by=manager, report="receivables", format="csv")
    assert export_job_build(job_id=job.pk).status == JobStatus.DONE
    built = ExportJob.objects.get(pk=job.pk)
    assert export_job_build(job_id=job.pk).finished_at == built.finished_at  # no second run
    # A job left RUNNING by a worker that died: no heartbeat for long enough.
    dead = ExportJob.objects.create(
        requested_by=manager,
        report="receivables",
        format="csv",
        status=JobStatus.RUNNING,
        attempts=1,
        heartbeat_at=timezone.now() - timedelta(minutes=5),
    )
    alive = ExportJob.objects.create(
        requested_by=manager,
        report="receivables",
        format="csv",
        status=JobStatus.RUNNING,
        attempts=1,
        heartbeat_at=timezone.now(),
    )
    assert export_job_build(job_id=alive.pk).status == JobStatus.RUNNING  # left alone
    assert export_jobs_requeue_stale() == 1
    dead.refresh_from_db()
    assert (dead.status, dead.attempts) == (JobStatus.DONE, 2)


@pytest.mark.django_db
def test_a_failing_job_records_its_error(manager, history):
    job = ExportJob.objects.create(
        requested_by=manager, report="receivables", format="csv", filters={"depot": "SOUTH"}
    )  # not the manager's depot
    export_job_build(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "depot: You do not work for depot SOUTH." in job.error


@pytest.mark.django_db
def test_export_memory_stays_flat(head_office, history):
    """Peak memory while writing 100,000 rows is that of 10,000: the export streams."""
    from reporting.catalogue import Column, Report
    from reporting.filters import parse_filters
    from reporting.writers import csv_chunks, write_xlsx

    class Synthetic(Report):
        slug, title = "synthetic", "Synthetic"
        columns = (Column("n", "N"), Column("name", "Name"), Column("amount", "Amount"))

        def __init__(self, count):
            self.count = count

        def rows(self, filters):
            from decimal import Decimal

            for n in range(self.count):
                yield n, f"customer {n}", Decimal(n) / 100

    filters = parse_filters({}, head_office)

    def peak(count, writer):
        tracemalloc.start()
        writer(Synthetic(count))
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    def to_csv(report):
        for _ in csv_chunks(report, filters):
            pass

    def to_xlsx(report):
        write_xlsx(report, filters, io.BytesIO())

    for writer in (to_csv,):
        small, large = peak(10_000, writer), peak(100_000, writer)
        assert large < small * 1.5 + 256 * 1024, (small, large)
    small, large = peak(10_000, to_xlsx), peak(100_000, to_xlsx)
    # constant_memory keeps one row in memory; the zip of the finished sheet is what grows.
    assert large < 8 * 1024 * 1024, (small, large)


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_runs_an_export_job_end_to_end(manager, history, tmp_path):
    from reporting.tasks import export_job_run

    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": os.environ["REDIS_URL"],
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "SECRET_KEY": settings.SECRET_KEY,
        "ENV_FILE": "",
    }
    worker = subprocess.Popen(  # noqa: S603 - our own worker
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "hsh_admin",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        job = ExportJob.objects.create(requested_by=manager, report="sales-register", format="xlsx")
        export_job_run.apply_async(args=[job.pk], queue=queue)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.status in (JobStatus.DONE, JobStatus.FAILED):
                break
            time.sleep(0.5)
        assert job.status == JobStatus.DONE, job.error
        assert job.row_count == 5
        assert job.file.name.endswith(f"sales-register-{job.pk}-1.xlsx")
        assert job.attempts == 1
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


def _database_url():
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.django_db
def test_schedule_admin_form(client, manager, history):
    from django.urls import reverse

    client.force_login(manager)
    data = {
        "name": "Weekly",
        "report": "sales-summary",
        "period": "last_week",
        "filter_depot": "NORTH",
        "filter_group_by": "depot",
        "filter_period": "month",
        "format": "csv",
        "recipients": "m@example.lk",
        "frequency": "weekly",
        "weekday": "0",
        "month_day": "1",
        "at": "25:00",
        "enabled": "on",
    }
    bad = client.post(reverse("admin:reporting_reportschedule_add"), data)
    assert bad.status_code == 200
    assert "Enter a valid time" in str(bad.context["adminform"].form.errors["at"])
    data["at"] = "06:00"
    good = client.post(reverse("admin:reporting_reportschedule_add"), data)
    assert good.status_code == 302
    schedule = ReportSchedule.objects.get()
    assert schedule.owner == manager
    assert schedule.filters == {"depot": "NORTH", "group_by": "depot", "period": "month"}
    assert (schedule.minute, schedule.day_of_week, schedule.day_of_month) == ("0", "1", "*")
    assert schedule.periodic_task.crontab.hour == "6"


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_100k_row_register_streams_through_copy_in_flat_memory(north, sales_rep, head_office):
    """100,000 sale lines written by SQL, exported through COPY: memory stays flat."""
    from reporting.catalogue import get_report
    from reporting.filters import parse_filters
    from reporting.writers import csv_chunks
    from sales.models import Customer

    customer = Customer.objects.create(code="BULKBUYER", name="Bench", depot=north)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO sales_transaction (number, customer_id, sales_rep_id, depot_id,
                payment_type, total_amount, cylinders, metered, amount_paid, is_paid, status,
                created_by_id, created_at, occurred_at, void_reason)
            SELECT 'BENCH-' || g, %s, %s, %s, 'CASH', 100, 0, 0, 100, true, 'POSTED', %s,
                   now() - (g || ' seconds')::interval, now() - (g || ' seconds')::interval, ''
            FROM generate_series(1, 20000) g
            """,
            [customer.pk, sales_rep.pk, north.pk, sales_rep.pk],
        )
        cursor.execute(
            """
            INSERT INTO sales_transactionline (transaction_id, product_id, quantity,
                empties_returned, rate, subtotal)
            SELECT t.id, p.id, 1, 1, 20, 20
            FROM sales_transaction t CROSS JOIN stock_product p
            WHERE t.number LIKE 'BENCH-%%' AND p.kind = 'CYLINDER'
            """
        )
    report = get_report("sales-register")
    filters = parse_filters({}, head_office)

    def export():
        size = lines = 0
        tracemalloc.start()
        for chunk in csv_chunks(report, filters):
            size += len(chunk)
            lines += chunk.count(b"\n")
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return lines, size, top

    lines, size, top = export()
    assert lines == 100_001  # the header and every line
    assert size > 5_000_000
    assert top < 2 * 1024 * 1024, f"peak {top} bytes for a {size}-byte export"


@pytest.mark.django_db
def test_a_redelivered_schedule_run_builds_and_emails_once(manager, history):
    from reporting.services import schedule_run as run

    schedule = ReportSchedule(
        name="Daily", owner=manager, report="receivables", recipients="boss@example.lk"
    )
    schedule_save(schedule=schedule)
    first = run(schedule_id=schedule.pk, run_key="task-1")
    again = run(schedule_id=schedule.pk, run_key="task-1")  # the same message, redelivered
    assert first.pk == again.pk
    assert len(mail.outbox) == 1
    run(schedule_id=schedule.pk, run_key="task-2")  # the next day's run
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_an_email_that_failed_goes_on_redelivery(manager, history, monkeypatch):
    from django.core.mail.message import EmailMessage

    from reporting.services import schedule_run as run

    schedule = ReportSchedule(
        name="Daily", owner=manager, report="receivables", recipients="boss@example.lk"
    )
    schedule_save(schedule=schedule)
    real_send = EmailMessage.send
    monkeypatch.setattr(
        EmailMessage, "send", lambda self, **kw: (_ for _ in ()).throw(ConnectionError("smtp down"))
    )
    with pytest.raises(ConnectionError):
        run(schedule_id=schedule.pk, run_key="task-1")
    monkeypatch.setattr(EmailMessage, "send", real_send)
    run(schedule_id=schedule.pk, run_key="task-1")
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_worker_that_lost_its_job_cannot_finish_it(manager, history):
    job = ExportJob.objects.create(
        requested_by=manager,
        report="receivables",
        format="csv",
        status=JobStatus.RUNNING,
        attempts=1,
        heartbeat_at=timezone.now() - timedelta(hours=1),
    )
    export_job_build(job_id=job.pk)  # attempt 2 takes over and finishes
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.DONE, 2)
    # The first worker wakes up and tries to finish: it owns attempt 1 only.
    late = ExportJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING, attempts=1)
    assert late.update(status=JobStatus.FAILED) == 0
    job.refresh_from_db()
    assert job.file.name.endswith(f"receivables-{job.pk}-2.csv")


@pytest.mark.django_db
def test_a_job_that_keeps_dying_is_failed(manager, history):
    job = ExportJob.objects.create(
        requested_by=manager,
        report="receivables",
        format="csv",
        status=JobStatus.RUNNING,
        attempts=3,
        heartbeat_at=timezone.now() - timedelta(hours=1),
    )
    export_job_build(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "Gave up after 3 attempts" in job.error


@pytest.mark.django_db
def test_a_lost_queued_job_is_queued_again(manager, history):
    job = ExportJob.objects.create(requested_by=manager, report="receivables", format="csv")
    ExportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=1))
    assert export_jobs_requeue_stale() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.DONE


@pytest.mark.django_db
def test_xlsx_past_excels_limit_fails_with_a_reason(manager, history, monkeypatch):
    from reporting import writers

    monkeypatch.setattr(writers, "XLSX_MAX_ROWS", 2)
    job = ExportJob.objects.create(requested_by=manager, report="sales-register", format="xlsx")
    export_job_build(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "download CSV" in job.error


@pytest.mark.django_db
def test_the_emailed_link_opens_for_recipients_only_with_its_token(
    client, manager, history, user_factory, north
):
    from django.urls import reverse

    from reporting.services import download_link

    job = ExportJob.objects.create(requested_by=manager, report="receivables", format="csv")
    export_job_build(job_id=job.pk)
    colleague = user_factory("MANAGER", depots=[north])
    client.force_login(colleague)
    url = reverse("reports:job-download", args=[job.pk])
    assert client.get(url).status_code == 403
    assert client.get(url, {"token": "forged"}).status_code == 403
    token = download_link(job).split("token=")[1]
    assert client.get(url, {"token": token}).status_code == 200


@pytest.mark.django_db
def test_bulk_deleting_schedules_removes_their_beat_entries(client, head_office, manager, history):
    from django.urls import reverse

    schedules = []
    for name in ("a", "b"):
        schedule = ReportSchedule(
            name=name, owner=manager, report="receivables", recipients="x@example.lk"
        )
        schedules.append(schedule_save(schedule=schedule))
    client.force_login(head_office)
    client.post(
        reverse("admin:reporting_reportschedule_changelist"),
        {"action": "delete_selected", "_selected_action": [s.pk for s in schedules], "post": "yes"},
    )
    assert not ReportSchedule.objects.exists()
    assert not PeriodicTask.objects.filter(name__startswith="report schedule").exists()
