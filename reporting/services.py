"""Export jobs and report schedules. Tasks call these; so do the admin and the API."""

import logging
import os
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from core.models import User
from reporting.catalogue import get_report
from reporting.filters import FilterError, parse_filters
from reporting.models import ExportFormat, ExportJob, JobStatus, ReportSchedule
from reporting.writers import csv_chunks, write_xlsx

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(seconds=90)  # a running job without a heartbeat for this long died
HEARTBEAT_EVERY = timedelta(seconds=2)


def _validated(report_slug, filters, user, fmt):
    report = get_report(report_slug)
    if report is None:
        raise ValidationError({"report": f"No report {report_slug!r}."})
    if fmt not in ExportFormat.values:
        raise ValidationError({"format": f"Use csv or xlsx; got {fmt!r}."})
    try:
        parse_filters(filters, user, options=report.options)
    except FilterError as exc:
        raise ValidationError(exc.errors) from None
    return report


def export_job_request(
    *, actor: User, report: str, filters: dict, format: str, schedule: ReportSchedule | None = None
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
    """Build the job's file, once. A job already done, or running with a live heartbeat
    elsewhere, is left alone; one whose worker died (no heartbeat) is taken over."""
    now = timezone.now()
    claimed = (
        ExportJob.objects.filter(pk=job_id)
        .filter(
            Q(status=JobStatus.QUEUED)
            | Q(status=JobStatus.RUNNING, heartbeat_at__lt=now - STALE_AFTER)
        )
        .update(
            status=JobStatus.RUNNING,
            started_at=now,
            heartbeat_at=now,
            progress=0,
            attempts=F("attempts") + 1,
            error="",
        )
    )
    job = ExportJob.objects.select_related("requested_by", "schedule").get(pk=job_id)
    if not claimed:
        return job
    try:
        report = get_report(job.report)
        filters = parse_filters(job.filters, job.requested_by, options=report.options)
        name = default_storage.generate_filename(
            f"exports/{now:%Y/%m}/{job.report}-{job.pk}.{job.format}"
        )
        path = default_storage.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        beat = _heartbeat(job.pk)
        if job.format == ExportFormat.XLSX:
            rows = write_xlsx(report, filters, path, progress=beat)
        else:
            with open(path, "wb") as out:
                for chunk in csv_chunks(report, filters, progress=beat):
                    out.write(chunk)
            rows = beat.rows
        ExportJob.objects.filter(pk=job.pk).update(
            status=JobStatus.DONE,
            file=name,
            row_count=rows,
            progress=rows,
            finished_at=timezone.now(),
        )
    except Exception as exc:  # recorded on the job for the requester to see
        logger.exception("export job %s failed", job.pk)
        message = (
            "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
            if isinstance(exc, FilterError)
            else f"{type(exc).__name__}: {exc}"
        )
        ExportJob.objects.filter(pk=job.pk).update(
            status=JobStatus.FAILED, error=message[:2000], finished_at=timezone.now()
        )
    job.refresh_from_db()
    if job.status == JobStatus.DONE and job.schedule_id:
        export_job_email(job=job)
    return job


class _heartbeat:
    """Progress callback: records rows written and keeps the job's heartbeat fresh."""

    def __init__(self, job_id):
        self.job_id, self.rows, self.last = job_id, 0, timezone.now()

    def __call__(self, rows, done=False):
        self.rows = rows
        now = timezone.now()
        if done or now - self.last >= HEARTBEAT_EVERY:
            ExportJob.objects.filter(pk=self.job_id, status=JobStatus.RUNNING).update(
                progress=rows, heartbeat_at=now
            )
            self.last = now


def export_job_email(*, job: ExportJob) -> bool:
    """E-mail a scheduled job's file to the schedule's recipients, exactly once: the
    job is claimed for e-mailing before sending."""
    if not ExportJob.objects.filter(pk=job.pk, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    ):
        return False
    schedule = job.schedule
    size = job.file.size
    subject = f"{schedule.name}: {get_report(job.report).title}"
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
        link = settings.SITE_URL.rstrip("/") + reverse("reports:job-download", args=[job.pk])
        body.append(
            f"It is too large to attach ({size // 1024} KB); download it (after "
            f"logging in) from {link}"
        )
    message.body = "\n\n".join(body)
    try:
        message.send()
    except Exception:
        ExportJob.objects.filter(pk=job.pk).update(emailed_at=None)  # try again next run
        raise
    return True


def _content_type(fmt):
    if fmt == ExportFormat.XLSX:
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return "text/csv"


def export_jobs_requeue_stale() -> int:
    """Queue again the jobs whose worker died mid-export (no heartbeat)."""
    from reporting.tasks import export_job_run

    stale = ExportJob.objects.filter(
        status=JobStatus.RUNNING, heartbeat_at__lt=timezone.now() - STALE_AFTER
    )
    ids = list(stale.values_list("pk", flat=True))
    for job_id in ids:
        export_job_run.delay(job_id)
    return len(ids)


# --- Schedules -----------------------------------------------------------------------


def resolve_period(period: str, today=None) -> dict:
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
            {"filters": 'Give the filters as an object, e.g. {"depot": "NORTH"}.'}
        )
    filters = {**schedule.filters, **resolve_period(schedule.period)}
    _validated(schedule.report, filters, schedule.owner, schedule.format)
    errors = {}
    if not schedule.recipient_list:
        errors["recipients"] = "Name at least one e-mail address."
    for address in schedule.recipient_list:
        try:
            validate_email(address)
        except ValidationError:
            errors["recipients"] = f"{address!r} is not an e-mail address."
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
            errors[name] = exc.messages[0]
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


def schedule_run(*, schedule_id: int) -> ExportJob | None:
    """Run a schedule now: build its export as its owner and e-mail it."""
    schedule = ReportSchedule.objects.select_related("owner").get(pk=schedule_id)
    if not schedule.enabled or not schedule.owner.is_active:
        return None
    filters = {**schedule.filters, **resolve_period(schedule.period)}
    job = ExportJob.objects.create(
        requested_by=schedule.owner,
        report=schedule.report,
        filters=filters,
        format=schedule.format,
        schedule=schedule,
    )
    return export_job_build(job_id=job.pk)
