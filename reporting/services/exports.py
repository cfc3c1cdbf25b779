"""Export jobs: requested, built by a worker (taken over when its worker dies), e-mailed
and downloaded. Tasks call these; so do the admin, the API and the schedules."""

import contextlib
import errno
import logging
import os
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from core.models import User
from reporting.catalogue import Report, get_report
from reporting.filters import FilterError
from reporting.models import ExportFormat, ExportJob, JobStatus, ReportSchedule
from reporting.writers import csv_chunks, write_xlsx

logger = logging.getLogger(__name__)

HEARTBEAT_EVERY = timedelta(seconds=5)
MAX_ATTEMPTS = 3  # a job whose worker dies this often is failed, not retried for ever
LINK_MAX_AGE = 14 * 24 * 3600  # seconds a download link in an e-mail works


def stale_after() -> timedelta:
    return timedelta(seconds=settings.EXPORT_JOB_STALE_SECONDS)


def heartbeat_every() -> timedelta:
    """How often a running export reports: well within stale_after(), however small that
    is set, so a live job never looks dead and is never taken over."""
    return min(HEARTBEAT_EVERY, stale_after() / 3)


def _validated(report_slug: str, filters: dict[str, Any], user: User, fmt: str) -> Report:
    report = get_report(report_slug)
    if report is None:
        raise ValidationError(
            {"report": ValidationError(f"No report {report_slug!r}.", code="unknown_report")}
        )
    if fmt not in ExportFormat.values:
        raise ValidationError(
            {"format": ValidationError(f"Use csv or xlsx; got {fmt!r}.", code="invalid")}
        )
    try:
        report.filters_from(filters, user)
    except FilterError as exc:  # code "invalid", as the report pages and API answer it
        raise ValidationError(
            {name: ValidationError(problem, code="invalid") for name, problem in exc.errors.items()}
        ) from None
    return report


def export_job_request(
    *,
    actor: User,
    report: str,
    filters: dict[str, Any],
    format: str,
    schedule: ReportSchedule | None = None,
) -> ExportJob:
    """Queue an export; a Celery worker builds it once the job row is committed."""
    _validated(report, filters, actor, format)
    with transaction.atomic():
        job = ExportJob.objects.create(
            requested_by=actor, report=report, filters=filters, format=format, schedule=schedule
        )
        transaction.on_commit(partial(_build_soon, job.pk))
    return job


def _build_soon(job_id: int) -> None:
    """Hand the committed job to the workers. A broker that cannot take it (Redis down)
    is logged and left, never raised into the request that asked: the job stays queued,
    and the beat's requeue (export_jobs_requeue_stale, every minute) sends it once it is
    EXPORT_JOB_STALE_SECONDS old."""
    from reporting.tasks import export_job_run

    try:
        export_job_run.delay(job_id)
    except OperationalError:
        logger.warning(
            "Could not hand export job %s to the workers; the beat's requeue builds it later.",
            job_id,
            exc_info=True,
        )


def export_job_build(*, job_id: int) -> ExportJob:
    """Build the job's file, once.

    A job already done, or running with a live heartbeat elsewhere, is left alone; one
    whose worker died (no heartbeat for EXPORT_JOB_STALE_SECONDS) is taken over, up to
    MAX_ATTEMPTS. Each attempt writes its own file and may finish the job only while it
    still owns it (its attempt number), so a slow worker cannot overwrite a newer one.
    """
    now = timezone.now()
    stale = Q(status=JobStatus.RUNNING, heartbeat_at__lt=now - stale_after())
    given_up = ExportJob.objects.filter(stale, pk=job_id, attempts__gte=MAX_ATTEMPTS)
    dead_file = given_up.values_list("file", flat=True).first()
    if given_up.update(
        status=JobStatus.FAILED,
        finished_at=now,
        file="",
        error=f"Gave up after {MAX_ATTEMPTS} attempts: the worker stopped each time (out of "
        "memory, or over the time limit?). Narrow the filters or use CSV.",
    ):
        _remove_half_file(dead_file)
    claimed = ExportJob.objects.filter(Q(status=JobStatus.QUEUED) | stale, pk=job_id).update(
        status=JobStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
        progress=0,
        attempts=F("attempts") + 1,
        error="",
    )
    job = ExportJob.objects.select_related("requested_by", "schedule").get(pk=job_id)
    if not claimed:
        if job.status == JobStatus.DONE and job.schedule_id and job.emailed_at is None:
            export_job_email(job=job)  # a redelivered run whose e-mail did not go
        return job
    owned = ExportJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING, attempts=job.attempts)
    name = default_storage.generate_filename(
        f"exports/{now:%Y/%m}/{job.report}-{job.pk}-{job.attempts}.{job.format}"
    )
    path = default_storage.path(name)
    # Where this attempt writes, recorded first: if its worker dies, the attempt that takes
    # the job over removes the half-written file (the file's name counts only once DONE).
    dead_file = job.file.name
    owned.update(file=name)
    _remove_half_file(dead_file)
    try:
        report = get_report(job.report)
        if report is None:  # taken out of the catalogue since the job was requested
            raise FilterError({"report": f"there is no report {job.report!r} any more"})
        filters = report.filters_from(job.filters, job.requested_by)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        beat = _Heartbeat(owned)
        # The file is opened here, and closed whatever happens: a writer that fails (a
        # full disk) holds no handle on the removed file, whose space is then freed.
        with open(path, "wb") as out:
            if job.format == ExportFormat.XLSX:
                rows = write_xlsx(report, filters, out, progress=beat)
            else:
                for chunk in csv_chunks(report, filters, progress=beat):
                    out.write(chunk)
                rows = beat.rows
        finished = owned.update(
            status=JobStatus.DONE,
            file=name,
            row_count=rows,
            progress=rows,
            finished_at=timezone.now(),
        )
        if not finished:  # another worker took the job over meanwhile: its file counts
            _remove_half_file(name)
    except Exception as exc:  # recorded on the job for the requester to see
        if _disk_full(exc):  # no traceback to read: the disk's name says it all
            logger.error("export job %s failed: the disk holding %s is full", job.pk, path)
            message = DISK_FULL
        else:
            logger.exception("export job %s failed", job.pk)
            if isinstance(exc, FilterError):
                message = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
            else:
                message = f"Building the file stopped: {exc}"
        owned.update(
            status=JobStatus.FAILED, file="", error=message[:2000], finished_at=timezone.now()
        )
        if os.path.exists(path):
            os.remove(path)
    job.refresh_from_db()
    if job.status == JobStatus.DONE and job.schedule_id:
        export_job_email(job=job)
    return job


def _remove_half_file(name: str | None) -> None:
    """Remove the file a dead attempt left half-written (gone already: nothing to do)."""
    if name:
        with contextlib.suppress(FileNotFoundError):
            os.remove(default_storage.path(name))


DISK_FULL = (
    "The disk where export files are kept is full, so this file could not be saved "
    "(nothing was kept). Ask your administrator to free space on it, then ask for the "
    "export again."
)


def _disk_full(exc: BaseException) -> bool:
    """Whether `exc` is a full disk (or quota), itself or wrapped (xlsxwriter's
    FileCreateError holds the OSError as its argument)."""
    seen: BaseException | None = exc
    for _ in range(10):  # a chain, not a cycle
        if seen is None:
            return False
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        wrapped = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        seen = wrapped or seen.__cause__ or seen.__context__
    return False


class _Heartbeat:
    """Progress callback: records rows written and keeps the job's heartbeat fresh."""

    def __init__(self, owned: QuerySet[ExportJob]) -> None:
        self.owned, self.rows, self.last = owned, 0, timezone.now()
        self.every = heartbeat_every()

    def __call__(self, rows: int, done: bool = False) -> None:
        self.rows = rows
        now = timezone.now()
        if done or now - self.last >= self.every:
            self.owned.update(progress=rows, heartbeat_at=now)
            self.last = now


def export_job_email(*, job: ExportJob) -> bool:
    """E-mail a scheduled job's file to the schedule's recipients, once: the job is claimed
    for e-mailing before sending (and released if sending fails)."""
    schedule, report = job.schedule, get_report(job.report)
    if schedule is None or report is None:  # not a schedule's job: nobody to send it to
        return False
    if not ExportJob.objects.filter(pk=job.pk, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    ):
        return False
    size = job.file.size
    subject = f"{schedule.name}: {report.title}"
    body = [f"The report {schedule.name!r} ({job.row_count} rows) is ready."]
    message = EmailMessage(
        subject=subject, to=schedule.recipient_list, from_email=settings.DEFAULT_FROM_EMAIL
    )
    if size <= settings.EXPORT_EMAIL_MAX_BYTES:
        with job.file.open("rb") as handle:
            message.attach(
                os.path.basename(job.file.name), handle.read(), _content_type(job.format)
            )
        body.append("It is attached.")
    else:
        body.append(
            f"It is too large to attach ({size // 1024} KB); download it (after "
            f"logging in) from {download_link(job)}"
        )
    message.body = "\n\n".join(body)
    try:
        message.send()
    except Exception:
        ExportJob.objects.filter(pk=job.pk).update(emailed_at=None)  # sent on redelivery
        raise
    return True


def download_link(job: ExportJob) -> str:
    """A link any logged-in colleague the report was sent to may use, for two weeks."""
    token = signing.dumps(job.pk, salt="export-download")
    path = reverse("reports:job-download", args=[job.pk])
    return f"{settings.SITE_URL.rstrip('/')}{path}?token={token}"


def download_token_valid(job: ExportJob, token: str) -> bool:
    try:
        signed: object = signing.loads(token, salt="export-download", max_age=LINK_MAX_AGE)
        return signed == job.pk
    except signing.BadSignature:
        return False


def _content_type(fmt: str) -> str:
    if fmt == ExportFormat.XLSX:
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return "text/csv"


def export_jobs_requeue_stale() -> int:
    """Queue again the jobs whose worker died mid-export (no heartbeat), and the jobs
    whose message never reached a worker (queued long ago)."""
    from reporting.tasks import export_job_run

    limit = timezone.now() - stale_after()
    stale = ExportJob.objects.filter(
        Q(status=JobStatus.RUNNING, heartbeat_at__lt=limit)
        | Q(status=JobStatus.QUEUED, created_at__lt=limit)
    )
    ids = list(stale.values_list("pk", flat=True))
    for job_id in ids:
        export_job_run.delay(job_id)
    return len(ids)
