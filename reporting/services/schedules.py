"""Report schedules: saved, checked, run on their timetable by beat (once per run, however
often the message is delivered) or at once ("Run now")."""

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from reporting.catalogue import get_report
from reporting.models import ExportJob, JobStatus, ReportSchedule
from reporting.services.exports import _validated, export_job_build, export_job_request


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


# A "Run now" while the schedule's previous run is still waiting or being built is refused
# (a double click, two tabs): one press, one e-mail.
RUN_NOW_BUSY = (JobStatus.QUEUED, JobStatus.RUNNING)


def schedule_run_now(*, schedule: ReportSchedule) -> ExportJob:
    """Run a schedule at once, outside its timetable: its export is built as its owner
    in the background and e-mailed to its recipients, as a timed run is.

    Refused, in words (ValidationError), when its owner can no longer sign in
    (schedule_owner_inactive), when a run of it is still waiting or being built
    (schedule_running; the schedule row is locked, so two presses at once queue one
    export), and when its saved filters no longer fit its owner (a depot they left, a
    customer moved: the report's own refusal)."""
    with transaction.atomic():
        locked = (
            ReportSchedule.objects.select_for_update().select_related("owner").get(pk=schedule.pk)
        )
        if not locked.owner.is_active:
            raise ValidationError(
                f"{locked.name} cannot run: its owner {locked.owner.username} can no longer "
                "sign in. Give the schedule to someone who can, or delete it.",
                code="schedule_owner_inactive",
            )
        running = (
            ExportJob.objects.filter(schedule=locked, status__in=RUN_NOW_BUSY)
            .order_by("-pk")
            .first()
        )
        if running is not None:
            raise ValidationError(
                f"{locked.name} is already running (export #{running.pk}, "
                f"{running.get_status_display().lower()}); it is e-mailed once it is built.",
                code="schedule_running",
            )
        return export_job_request(
            actor=locked.owner,
            report=locked.report,
            filters=schedule_filters(locked),
            format=locked.format,
            schedule=locked,
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
