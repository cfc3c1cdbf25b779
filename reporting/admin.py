from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.html import format_html

from core import dashboard
from core.admin_mixins import ReadOnlyAdminMixin
from core.scoping import ALL, visible_depot_ids
from reporting import services
from reporting.catalogue import all_reports
from reporting.models import ExportJob, JobStatus, ReportSchedule


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Export jobs: managers see their own, head office all. Nothing is edited here."""

    list_display = (
        "id",
        "report",
        "format",
        "requested_by",
        "status",
        "progress",
        "row_count",
        "created_at",
        "download",
    )
    list_filter = ("status", "report", "format")
    list_select_related = ("requested_by",)
    readonly_fields = (
        "report",
        "filters",
        "format",
        "requested_by",
        "status",
        "progress",
        "row_count",
        "download",
        "error",
        "schedule",
        "emailed_at",
        "attempts",
        "created_at",
        "started_at",
        "finished_at",
    )
    fields = readonly_fields

    def get_queryset(self, request):
        jobs = super().get_queryset(request)
        if visible_depot_ids(request.user) is ALL:
            return jobs
        return jobs.filter(requested_by=request.user)

    @admin.display(description="File")
    def download(self, obj):
        if obj.status == JobStatus.DONE and obj.file:
            return format_html(
                '<a href="{}">Download</a>', reverse("reports:job-download", args=[obj.pk])
            )
        if obj.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            return f"building ({obj.progress} rows so far)"
        return "-"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Django's own lookup: an id that cannot be a job's ("abc") is no job, not a 500.
        job = self.get_object(request, unquote(object_id))
        refresh = job is not None and job.status in (JobStatus.QUEUED, JobStatus.RUNNING)
        extra_context = {**(extra_context or {}), "refresh": refresh}
        return super().change_view(request, object_id, form_url, extra_context)


class ReportScheduleForm(forms.ModelForm):
    report = forms.ChoiceField()
    filters = forms.JSONField(
        required=False, initial=dict, help_text='URL filters as JSON, e.g. {"depot": "NORTH"}.'
    )

    class Meta:
        model = ReportSchedule
        fields = (
            "name",
            "report",
            "period",
            "filters",
            "format",
            "recipients",
            "minute",
            "hour",
            "day_of_week",
            "day_of_month",
            "enabled",
        )

    request = None  # set by the admin's get_form

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["report"].choices = [(r.slug, r.title) for r in all_reports()]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        schedule = self.instance
        for name, value in cleaned.items():
            setattr(schedule, name, value if value is not None else {})
        if schedule.owner_id is None:
            schedule.owner = self.request.user
        try:
            services.schedule_validate(schedule=schedule)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else "filters", messages)
        return cleaned


@admin.register(ReportSchedule)
class ReportScheduleAdmin(admin.ModelAdmin):
    form = ReportScheduleForm
    list_display = ("name", "report", "period", "format", "owner", "timing", "enabled", "last_run")
    list_filter = ("report", "enabled")

    def get_queryset(self, request):
        # The last run of each schedule comes with the page (not a query per schedule).
        last = ExportJob.objects.filter(schedule=OuterRef("pk")).order_by("-id")
        schedules = (
            super()
            .get_queryset(request)
            .select_related("owner")
            .annotate(
                last_run_at=Subquery(last.values("created_at")[:1]),
                last_run_status=Subquery(last.values("status")[:1]),
            )
        )
        if visible_depot_ids(request.user) is ALL:
            return schedules
        return schedules.filter(owner=request.user)

    @admin.display(description="Runs")
    def timing(self, obj):
        return f"{obj.minute} {obj.hour} * * {obj.day_of_week} (day {obj.day_of_month})"

    @admin.display(description="Last run")
    def last_run(self, obj):
        if obj.last_run_at is None:
            return "-"
        return f"{obj.last_run_at:%Y-%m-%d %H:%M} {obj.last_run_status}"

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.request = request
        return form

    def save_model(self, request, obj, form, change):
        if not change:
            obj.owner = request.user
        services.schedule_save(schedule=obj)

    def delete_model(self, request, obj):
        services.schedule_delete(schedule=obj)

    def delete_queryset(self, request, queryset):
        for schedule in queryset:
            services.schedule_delete(schedule=schedule)


@dashboard.panel(order=90)
def reports_panel(request):
    return {
        "title": "Reports",
        "headers": ["Report", "What it shows"],
        "rows": [
            [
                format_html(
                    '<a href="{}">{}</a>', reverse("reports:report", args=[r.slug]), r.title
                ),
                r.description,
            ]
            for r in all_reports()
        ],
        "link": "reports:index",
        "link_text": "All reports",
        "empty": "",
    }
