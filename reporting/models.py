from datetime import timedelta

from django.conf import settings
from django.db import models


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (XLSX)"


class JobStatus(models.TextChoices):
    QUEUED = "QUEUED", "Queued"
    RUNNING = "RUNNING", "Running"
    DONE = "DONE", "Done"
    FAILED = "FAILED", "Failed"


class ReportSchedule(models.Model):
    """A report e-mailed on a timetable. Its filters may use relative periods
    (yesterday, last_week, last_month, month_to_date) resolved when it runs."""

    class Period(models.TextChoices):
        NONE = "", "As filtered"
        YESTERDAY = "yesterday", "Yesterday"
        LAST_WEEK = "last_week", "Last week (Monday to Sunday)"
        LAST_MONTH = "last_month", "Last month"
        MONTH_TO_DATE = "month_to_date", "This month so far"

    name = models.CharField(max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="report_schedules",
        help_text="The report runs with this user's access (a manager's depots).",
    )
    report = models.CharField(max_length=40)
    filters = models.JSONField(default=dict, blank=True, help_text="URL filters, e.g. depot.")
    period = models.CharField(max_length=20, choices=Period.choices, blank=True)
    format = models.CharField(max_length=4, choices=ExportFormat.choices, default="csv")
    recipients = models.TextField(help_text="E-mail addresses, one per line or comma-separated.")
    # When it runs, as in cron (in the business time zone): e.g. hour 6, day_of_week 1 for
    # Mondays at 06:00.
    minute = models.CharField(max_length=60, default="0")
    hour = models.CharField(max_length=60, default="6")
    day_of_week = models.CharField(max_length=60, default="*", help_text="0-6 (Sunday=0), or *.")
    day_of_month = models.CharField(max_length=60, default="*")
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    depot_scope = "owner__depots"

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def recipient_list(self) -> list[str]:
        return [a.strip() for a in self.recipients.replace(",", "\n").split() if a.strip()]


class ExportJob(models.Model):
    """A report export built by a Celery worker; the file is private to its requester."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="export_jobs"
    )
    report = models.CharField(max_length=40)
    filters = models.JSONField(default=dict, blank=True)
    format = models.CharField(max_length=4, choices=ExportFormat.choices)
    status = models.CharField(max_length=8, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveBigIntegerField(default=0, help_text="Rows written so far.")
    row_count = models.PositiveBigIntegerField(null=True, blank=True)
    file = models.FileField(upload_to="exports/%Y/%m/", blank=True)
    error = models.TextField(blank=True)
    schedule = models.ForeignKey(
        ReportSchedule, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    emailed_at = models.DateTimeField(null=True, blank=True)
    # A scheduled run's Celery task id: a redelivered message finds its job, not a new one.
    run_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        from reporting.catalogue import get_report

        report = get_report(self.report)
        return f"Export #{self.pk}: {report.title if report else self.report}"

    @property
    def duration(self) -> timedelta | None:
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None
