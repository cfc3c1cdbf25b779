"""Export jobs and report schedules. Tasks call these; so do the admin and the API."""

import logging
import os
from datetime import date, timedelta
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
    from reporting.tasks import export_job_run

    _validated(report, filters, actor, format)
    with transaction.atomic():
        job = ExportJob.objects.create(
            requested_by=actor, report=report, filters=filters, format=format, schedule=schedule
        )
        export_job_run.delay_on_commit(job.pk)
    return job


def export_job_build(*, job_id: int) -> ExportJob:
    """Build the job's file, once.

    A job already done, or running with a live heartbeat elsewhere, is left alone; one
    whose worker died (no heartbeat for EXPORT_JOB_STALE_SECONDS) is taken over, up to
    MAX_ATTEMPTS. Each attempt writes its own file and may finish the job only while it
    still owns it (its attempt number), so a slow worker cannot overwrite a newer one.
    """
    now = timezone.now()
    stale = Q(status=JobStatus.RUNNING, heartbeat_at__lt=now - stale_after())
    ExportJob.objects.filter(stale, pk=job_id, attempts__gte=MAX_ATTEMPTS).update(
        status=JobStatus.FAILED,
        finished_at=now,
        error=f"Gave up after {MAX_ATTEMPTS} attempts: the worker stopped each time (out of "
        "memory, or over the time limit?). Narrow the filters or use CSV.",
    )
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
    try:
        report = get_report(job.report)
        if report is None:  # taken out of the catalogue since the job was requested
            raise FilterError({"report": f"there is no report {job.report!r} any more"})
        filters = report.filters_from(job.filters, job.requested_by)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        beat = _Heartbeat(owned)
        if job.format == ExportFormat.XLSX:
            rows = write_xlsx(report, filters, path, progress=beat)
        else:
            with open(path, "wb") as out:
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
            os.remove(path)
    except Exception as exc:  # recorded on the job for the requester to see
        logger.exception("export job %s failed", job.pk)
        if isinstance(exc, FilterError):
            message = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
        else:
            message = f"Building the file stopped: {exc}"
        owned.update(status=JobStatus.FAILED, error=message[:2000], finished_at=timezone.now())
        if os.path.exists(path):
            os.remove(path)
    job.refresh_from_db()
    if job.status == JobStatus.DONE and job.schedule_id:
        export_job_email(job=job)
    return job


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


# --- Schedules -----------------------------------------------------------------------


def resolve_period(period: str, today: date | None = None) -> dict[str, str]:
    """A relative period as date_from / date_to, seen from `today`."""
    today = today or timezone.localdate()
    if period == ReportSchedule.Period.YESTERDAY:
        day = today - timedelta(days=1)
        return {"date_from": day.isoformat(), "date_to": day.isoformat()}
    if period == ReportSchedule.Period.LAST_WEEK:
        monday = today - timedelta(days=today.weekday() + 7)
        return {
            "date_from": monday.isoformat(),
            "date_to": (monday + timedelta(days=6)).isoformat(),
        }
    if period == ReportSchedule.Period.LAST_MONTH:
        last_day = today.replace(day=1) - timedelta(days=1)
        return {"date_from": last_day.replace(day=1).isoformat(), "date_to": last_day.isoformat()}
    if period == ReportSchedule.Period.MONTH_TO_DATE:
        return {"date_from": today.replace(day=1).isoformat(), "date_to": today.isoformat()}
    return {}


def schedule_filters(schedule: ReportSchedule) -> dict[str, Any]:
    """A schedule's filters and the dates of its period that its report uses (a position
    or balance report takes only the period's date_to: as at its end)."""
    report = get_report(schedule.report)
    uses = report.filters_used if report is not None else ("date_from", "date_to")
    dates = resolve_period(schedule.period)
    return {**schedule.filters, **{k: v for k, v in dates.items() if k in uses}}


def schedule_validate(*, schedule: ReportSchedule) -> None:
    """The report, filters, format, recipients and timing of a schedule, as its owner."""
    from django.core.validators import validate_email
    from django_celery_beat.validators import (
        day_of_month_validator,
        day_of_week_validator,
        hour_validator,
        minute_validator,
    )

    if not isinstance(schedule.filters, dict):
        raise ValidationError(
            {
                "filters": ValidationError(
                    'Give the filters as an object, e.g. {"depot": "NORTH"}.', code="invalid"
                )
            }
        )
    filters = schedule_filters(schedule)
    report = _validated(schedule.report, filters, schedule.owner, schedule.format)
    if schedule.period and not {"date_from", "date_to"} & set(report.filters_used):
        raise ValidationError(
            {
                "period": ValidationError(
                    f"{report.title} ({report.slug}) is not filtered by dates: choose "
                    "'Every date (no period)'.",
                    code="period_not_applicable",
                )
            }
        )
    errors: dict[str, ValidationError] = {}
    if not schedule.recipient_list:
        errors["recipients"] = ValidationError("Name at least one e-mail address.", code="required")
    for address in schedule.recipient_list:
        try:
            validate_email(address)
        except ValidationError:
            errors["recipients"] = ValidationError(
                f"{address!r} is not an e-mail address.", code="invalid_email"
            )
    timing = (
        ("minute", minute_validator),
        ("hour", hour_validator),
        ("day_of_week", day_of_week_validator),
        ("day_of_month", day_of_month_validator),
    )
    for name, validator in timing:
        try:
            validator(getattr(schedule, name))
        except ValidationError as exc:
            errors[name] = ValidationError(exc.messages[0], code="invalid_timing")
    if errors:
        raise ValidationError(errors)


def schedule_save(*, schedule: ReportSchedule) -> ReportSchedule:
    """Save a valid schedule with the celery-beat entry that runs it."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    schedule_validate(schedule=schedule)
    with transaction.atomic():
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=schedule.minute,
            hour=schedule.hour,
            day_of_week=schedule.day_of_week,
            day_of_month=schedule.day_of_month,
            month_of_year="*",
            timezone=settings.TIME_ZONE,
        )
        schedule.save()
        task = schedule.periodic_task or PeriodicTask(name=f"report schedule {schedule.pk}")
        task.task = "reporting.tasks.schedule_run"
        task.args = f"[{schedule.pk}]"
        task.crontab = crontab
        task.interval = None
        task.enabled = schedule.enabled
        task.save()
        if schedule.periodic_task_id != task.pk:
            schedule.periodic_task = task
            schedule.save(update_fields=["periodic_task"])
    return schedule


def schedule_delete(*, schedule: ReportSchedule) -> None:
    """Remove a schedule and the beat entry that runs it."""
    with transaction.atomic():
        task = schedule.periodic_task
        schedule.delete()
        if task is not None:
            task.delete()


def schedule_run_now(*, schedule: ReportSchedule) -> ExportJob:
    """Run a schedule at once, outside its timetable: its export is built as its owner
    in the background and e-mailed to its recipients, as a timed run is."""
    return export_job_request(
        actor=schedule.owner,
        report=schedule.report,
        filters=schedule_filters(schedule),
        format=schedule.format,
        schedule=schedule,
    )


def schedule_run(*, schedule_id: int, run_key: str) -> ExportJob | None:
    """Run a schedule now: build its export as its owner and e-mail it. `run_key` names
    this run (the beat message's task id): a redelivered message finds the same job, so
    the report is built and e-mailed once."""
    schedule = ReportSchedule.objects.select_related("owner").get(pk=schedule_id)
    if not schedule.enabled or not schedule.owner.is_active:
        return None
    filters = schedule_filters(schedule)
    job, _ = ExportJob.objects.get_or_create(
        run_key=run_key,
        defaults={
            "requested_by": schedule.owner,
            "report": schedule.report,
            "filters": filters,
            "format": schedule.format,
            "schedule": schedule,
        },
    )
    return export_job_build(job_id=job.pk)
