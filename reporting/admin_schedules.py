"""Report schedules in the admin: the timetable and the filters are picked, as on the
report's own page; "Run now"; the next five run times."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse

from core.display import moment
from core.scoping import ALL, visible_depot_ids
from reporting import services
from reporting.catalogue import all_reports, get_report
from reporting.display import filter_label, filters_in_words
from reporting.filters import COMMON
from reporting.forms import ReportFilterForm
from reporting.models import ExportJob, JobStatus, ReportSchedule
from reporting.schedule_times import (
    FREQUENCIES,
    MONTH_DAYS,
    WEEKDAYS,
    cron_fields,
    next_runs,
    pickers,
    timetable_in_words,
)

FILTER_PREFIX = "filter_"  # a report's own "period" option is not the schedule's period
DATES = ("date_from", "date_to")  # a schedule's dates come from its period


def filter_names(report) -> list[str]:
    """The report page's filters a schedule picks (its dates come from its period)."""
    return [n for n in COMMON if n in report.filters_used and n not in DATES] + list(report.options)


class ReportScheduleForm(forms.ModelForm):
    report = forms.ChoiceField(
        help_text="Changing the report shows its own filters (the page reloads).",
    )
    frequency = forms.ChoiceField(choices=FREQUENCIES, initial="weekly", label="How often")
    weekday = forms.TypedChoiceField(
        choices=list(enumerate(WEEKDAYS)),
        coerce=int,
        initial=0,
        label="Day of the week",
        help_text="For weekly runs.",
    )
    month_day = forms.TypedChoiceField(
        choices=[(d, str(d)) for d in range(1, MONTH_DAYS + 1)],
        coerce=int,
        initial=1,
        label="Day of the month",
        help_text=f"For monthly runs (1 to {MONTH_DAYS}: every month has them).",
    )
    at = forms.TimeField(
        label="Time",
        initial="06:00",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="In the business time zone.",
    )

    class Meta:
        model = ReportSchedule
        fields = ("name", "report", "period", "format", "recipients", "enabled")
        labels = {"period": "Dates", "format": "File"}
        help_texts = {"period": "The dates the report covers each time it runs."}

    request = None  # set by the admin's get_form
    report_slug = ""  # the report whose filters the form shows

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["report"].choices = [(r.slug, r.title) for r in all_reports()]
        periods = [c for c in ReportSchedule.Period.choices if c[0]]
        self.fields["period"].choices = [("", "Every date (no period)"), *periods]
        self.fields["report"].widget.attrs["data-reload"] = "report"
        report = get_report(self.report_slug) or all_reports()[0]
        self.fields["report"].initial = report.slug
        self.report = report
        filter_form = ReportFilterForm(user=self.request.user, report=report)
        self.filter_names = filter_names(report)
        for name in self.filter_names:
            field = filter_form.fields[name]
            field.required = False
            field.label = field.label or filter_label(name)
            self.fields[FILTER_PREFIX + name] = field
            if name in self.instance.filters:
                self.initial[FILTER_PREFIX + name] = self.instance.filters[name]
        if self.instance.pk:
            picked = pickers(
                self.instance.minute,
                self.instance.hour,
                self.instance.day_of_week,
                self.instance.day_of_month,
            )
            if picked is not None:
                self.initial.update(
                    {
                        "frequency": picked["frequency"],
                        "weekday": picked["weekday"],
                        "month_day": picked["month_day"],
                        "at": picked["at"],
                    }
                )

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        schedule = self.instance
        for name in self._meta.fields:
            setattr(schedule, name, cleaned.get(name))
        schedule.filters = {
            name: str(cleaned[FILTER_PREFIX + name])
            for name in self.filter_names
            if cleaned.get(FILTER_PREFIX + name) not in (None, "")
        }
        for name, value in cron_fields(
            cleaned["frequency"], cleaned["weekday"], cleaned["month_day"], cleaned["at"]
        ).items():
            setattr(schedule, name, value)
        if schedule.owner_id is None:
            schedule.owner = self.request.user
        try:
            services.schedule_validate(schedule=schedule)
        except ValidationError as exc:
            for field, problems in exc.message_dict.items():
                target = FILTER_PREFIX + field if FILTER_PREFIX + field in self.fields else field
                self.add_error(target if target in self.fields else None, problems)
        return cleaned


@admin.register(ReportSchedule)
class ReportScheduleAdmin(admin.ModelAdmin):
    form = ReportScheduleForm
    list_display = ("name", "report_title", "covers", "format", "owner", "timing", "enabled")
    list_display += ("last_run",)
    list_filter = ("report", "enabled")
    actions = ["run_now"]
    change_form_template = "admin/reporting/reportschedule/change_form.html"

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

    def get_fieldsets(self, request, obj=None):
        report = get_report(self._report_slug(request, obj)) or all_reports()[0]
        filters = [FILTER_PREFIX + name for name in filter_names(report)]
        return [
            (None, {"fields": ["name", "report", "format", "recipients", "enabled"]}),
            ("When it runs", {"fields": ["frequency", "weekday", "month_day", "at"]}),
            (
                "What it covers",
                {
                    "fields": ["period", *filters],
                    "description": "The filters of the report's own page.",
                },
            ),
        ]

    @staticmethod
    def _report_slug(request, obj) -> str:
        return (
            request.POST.get("report")
            or request.GET.get("report")
            or (obj.report if obj is not None else "")
        )

    @admin.display(description="Report", ordering="report")
    def report_title(self, obj):
        report = get_report(obj.report)
        return report.title if report else obj.report

    @admin.display(description="Covers")
    def covers(self, obj):
        period = obj.get_period_display() if obj.period else ""
        words = filters_in_words(obj.filters or {}) if obj.filters else ""
        return " · ".join(p for p in (period, words) if p) or "Everything"

    @admin.display(description="Runs")
    def timing(self, obj):
        return timetable_in_words(obj.minute, obj.hour, obj.day_of_week, obj.day_of_month)

    @admin.display(description="Last run")
    def last_run(self, obj):
        if obj.last_run_at is None:
            return "Not yet"
        return f"{moment(obj.last_run_at)} ({JobStatus(obj.last_run_status).label})"

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["fields"] = ["name", "report", "period", "format", "recipients", "enabled"]
        form = super().get_form(request, obj, change, **kwargs)
        slug = self._report_slug(request, obj)
        return type(form.__name__, (form,), {"request": request, "report_slug": slug})

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.pop("report", None)  # the form's own report (from the URL) is its initial
        return initial

    def change_view(self, request, object_id, form_url="", extra_context=None):
        schedule = self.get_object(request, object_id)
        extra = {}
        if schedule is not None:
            times = next_runs(
                schedule.minute, schedule.hour, schedule.day_of_week, schedule.day_of_month
            )
            extra = {
                "next_runs": [moment(t) for t in times],
                "timing": self.timing(schedule),
                "filters_shown": filters_in_words(services.schedule_filters(schedule)),
                "run_now_url": reverse("admin:reporting_reportschedule_run", args=[schedule.pk]),
                "enabled": schedule.enabled,
            }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def get_urls(self):
        run = self.admin_site.admin_view(self.run_view)
        own = [path("<int:pk>/run/", run, name="reporting_reportschedule_run")]
        return own + super().get_urls()

    def run_view(self, request, pk):
        """POST: run the schedule now and open its export job."""
        schedule = get_object_or_404(self.get_queryset(request), pk=pk)
        if request.method != "POST" or not self.has_change_permission(request, schedule):
            return redirect("admin:reporting_reportschedule_change", pk)
        try:
            job = services.schedule_run_now(schedule=schedule)
        except ValidationError as exc:
            messages.error(request, refusal_words(exc))
            return redirect("admin:reporting_reportschedule_change", pk)
        messages.info(
            request,
            f"{schedule.name} runs now (export #{job.pk}); the file is e-mailed to "
            f"{', '.join(schedule.recipient_list)} once it is built.",
        )
        return redirect("admin:reporting_exportjob_change", job.pk)

    @admin.action(description="Run now (build and e-mail each chosen schedule's report)")
    def run_now(self, request, queryset):
        jobs = []
        for schedule in queryset:
            try:
                jobs.append(services.schedule_run_now(schedule=schedule))
            except ValidationError as exc:
                messages.error(request, refusal_words(exc))
        if jobs:
            messages.info(
                request,
                f"{len(jobs)} schedule(s) run now: exports {', '.join(f'#{j.pk}' for j in jobs)}.",
            )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.owner = request.user
        services.schedule_save(schedule=obj)

    def delete_model(self, request, obj):
        services.schedule_delete(schedule=obj)

    def delete_queryset(self, request, queryset):
        for schedule in queryset:
            services.schedule_delete(schedule=schedule)


def refusal_words(exc: ValidationError) -> str:
    """A refused run in sentences: the schedule's own reasons, or what its saved filters
    no longer allow, by field ("depot: You do not work for depot NORTH.")."""
    if hasattr(exc, "error_dict"):
        problems = " ".join(
            f"{name.replace('_', ' ').capitalize()}: {' '.join(messages)}"
            for name, messages in exc.message_dict.items()
        )
        return f"The schedule cannot run with its saved filters. {problems} Change its filters."
    return " ".join(exc.messages)
