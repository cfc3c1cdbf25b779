"""Export jobs in the admin: a page that says what the job is doing, in words."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.urls import reverse
from django.utils.html import format_html

from core.admin_mixins import ReadOnlyAdminMixin
from core.display import moment, quantity
from core.scoping import ALL, visible_depot_ids
from reporting.catalogue import get_report
from reporting.display import filters_in_words
from reporting.models import ExportJob, JobStatus


def job_state(job: ExportJob) -> dict:
    """What the job's page says of it, one state at a time: never "being built" once it
    is done or failed, never a file before it is done."""
    if job.status == JobStatus.QUEUED:
        return {
            "key": "queued",
            "headline": "Waiting for a worker to start building it.",
            "detail": "This page refreshes itself every few seconds.",
        }
    if job.status == JobStatus.RUNNING:
        return {
            "key": "running",
            "headline": f"Being built: {quantity(job.progress)} rows written so far.",
            "detail": "This page refreshes itself every few seconds.",
        }
    if job.status == JobStatus.DONE:
        rows, built = quantity(job.row_count or 0), moment(job.finished_at)
        return {
            "key": "done",
            "headline": f"Ready: {rows} rows, built {built}.",
            "detail": "",
            "download": reverse("reports:job-download", args=[job.pk]) if job.file else "",
        }
    return {
        "key": "failed",
        "headline": "The export failed; no file was made.",
        "detail": job.error or "The worker gave no reason.",
    }


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Export jobs: managers see their own, head office all. Nothing is edited here."""

    list_display = (
        "id",
        "report_title",
        "format",
        "requested_by",
        "status",
        "row_count",
        "requested",
        "download",
    )
    list_filter = ("status", "report", "format")
    list_select_related = ("requested_by",)
    readonly_fields = (
        "report_title",
        "filters_shown",
        "format",
        "requested_by",
        "status",
        "download",
        "schedule",
        "emailed",
        "requested",
        "started",
        "finished",
    )

    def get_fields(self, request, obj=None):
        fields = ["report_title", "filters_shown", "format", "requested_by", "status"]
        if obj is not None and obj.status == JobStatus.DONE:
            fields.append("download")
        if obj is not None and obj.schedule_id:
            fields += ["schedule", "emailed"]
        fields.append("requested")
        if obj is not None and obj.started_at:
            fields.append("started")
        if obj is not None and obj.status in (JobStatus.DONE, JobStatus.FAILED):
            fields.append("finished")
        return fields

    @admin.display(description="Requested", ordering="created_at")
    def requested(self, obj):
        return moment(obj.created_at)

    @admin.display(description="Started")
    def started(self, obj):
        return moment(obj.started_at)

    @admin.display(description="Finished")
    def finished(self, obj):
        return moment(obj.finished_at)

    @admin.display(description="E-mailed")
    def emailed(self, obj):
        return moment(obj.emailed_at) if obj.emailed_at else "Not yet"

    def get_queryset(self, request):
        jobs = super().get_queryset(request)
        if visible_depot_ids(request.user) is ALL:
            return jobs
        return jobs.filter(requested_by=request.user)

    @admin.display(description="Report", ordering="report")
    def report_title(self, obj):
        report = get_report(obj.report)
        return report.title if report is not None else obj.report

    @admin.display(description="Filters")
    def filters_shown(self, obj):
        return filters_in_words(obj.filters or {})

    @admin.display(description="File")
    def download(self, obj):
        if obj.status == JobStatus.DONE and obj.file:
            return format_html(
                '<a href="{}">Download</a>', reverse("reports:job-download", args=[obj.pk])
            )
        if obj.status == JobStatus.QUEUED:
            return "Waiting to start"
        if obj.status == JobStatus.RUNNING:
            return f"Being built ({quantity(obj.progress)} rows so far)"
        return "No file: the export failed"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Django's own lookup: an id that cannot be a job's ("abc") is no job, not a 500.
        job = self.get_object(request, unquote(object_id))
        extra = {}
        if job is not None:
            state = job_state(job)
            extra = {"refresh": state["key"] in ("queued", "running"), "job_state": state}
            report = get_report(job.report)
            extra["title"] = f"Export #{job.pk}: {report.title if report else job.report}"
        extra_context = {**(extra_context or {}), **extra}
        return super().change_view(request, object_id, form_url, extra_context)
