"""The monthly statement runs in the admin: the list of runs with their progress, a "Start
a statement run" form (head office: a month that has ended, previewed, then started by
billing.services.statement_run_start), and each run's page, read-only, which refreshes
itself while the run is waiting or running and links to the statements it issued."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html

from billing.models import StatementRun, StatementRunStatus
from billing.services import statement_run_start
from billing.services.statement_run import month_last, previous_month, statement_run_customers
from core.admin_flow import confirm_and_post
from core.numbers import money_text
from sales.admin.document_pages import moment

REFRESH_SECONDS = 5


class StatementRunForm(forms.Form):
    month = forms.DateField(
        label="Month",
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        help_text="The month whose statements are issued (it must have ended). Every credit "
        "customer gets theirs; those who take documents by e-mail are e-mailed.",
        error_messages={"invalid": "Give a month as 2026-10 (year and month)."},
    )

    def __init__(self, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"] = {"month": previous_month(), **kwargs["initial"]}
        super().__init__(*args, **kwargs)


def progress_text(run: StatementRun) -> str:
    """ "1,234 of 4,000 (31 %)"."""
    total, done = run.customers_total, run.customers_done
    if total == 0:
        return "not counted yet" if run.status == StatementRunStatus.QUEUED else "0 of 0"
    return f"{money_text(done)[:-3]} of {money_text(total)[:-3]} ({done * 100 // total} %)"


def _count(n: int) -> str:
    return f"{n:,}"


@admin.register(StatementRun)
class StatementRunAdmin(admin.ModelAdmin):
    """Monthly statement runs, newest month first. Started here (head office) or by the
    schedule on the 1st; the statements are issued by a worker in the background."""

    list_display = (
        "month_name",
        "status_label",
        "progress",
        "emailed_count",
        "started",
        "finished",
        "requested",
    )
    list_filter = ("status",)
    list_select_related = ("requested_by",)
    show_full_result_count = False
    list_per_page = 50
    fields = (
        "month_name",
        "status_label",
        "progress",
        "emailed_count",
        "requested",
        "created",
        "started",
        "finished",
        "error",
        "statements_link",
    )
    readonly_fields = fields
    change_form_template = "admin/billing/statementrun/change_form.html"
    change_list_template = "admin/billing/statementrun/change_list.html"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Month", ordering="month")
    def month_name(self, obj: StatementRun) -> str:
        return f"{obj.month:%B %Y}"

    @admin.display(description="Status", ordering="status")
    def status_label(self, obj: StatementRun) -> str:
        return obj.get_status_display()

    @admin.display(description="Progress")
    def progress(self, obj: StatementRun) -> str:
        return progress_text(obj)

    @admin.display(description="E-mailed", ordering="emailed")
    def emailed_count(self, obj: StatementRun) -> str:
        return _count(obj.emailed)

    @admin.display(description="Started", ordering="started_at")
    def started(self, obj: StatementRun) -> str:
        return moment(obj.started_at)

    @admin.display(description="Finished", ordering="finished_at")
    def finished(self, obj: StatementRun) -> str:
        return moment(obj.finished_at)

    @admin.display(description="Requested by", ordering="requested_by__username")
    def requested(self, obj: StatementRun) -> str:
        if obj.requested_by is None:
            return "the monthly schedule"
        return obj.requested_by.get_full_name() or obj.requested_by.username

    @admin.display(description="Queued")
    def created(self, obj: StatementRun) -> str:
        return moment(obj.created_at)

    @admin.display(description="Problems")
    def error(self, obj: StatementRun) -> str:
        return obj.last_error or "none"

    @admin.display(description="Statements")
    def statements_link(self, obj: StatementRun) -> str:
        url = reverse("admin:billing_customerstatement_changelist")
        return format_html(
            '<a href="{}?run__id__exact={}">The {} statements this run issued</a>',
            url,
            obj.pk,
            _count(obj.customers_done),
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        run = self.get_object(request, object_id)
        busy = run is not None and run.status in (
            StatementRunStatus.QUEUED,
            StatementRunStatus.RUNNING,
        )
        extra = {"refresh_seconds": REFRESH_SECONDS if busy else 0, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra)

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        def preview(form: StatementRunForm, run: StatementRun) -> list[str]:
            return run_preview(run)

        def success(run: StatementRun) -> tuple[str, str]:
            return run_started_message(run), reverse(
                "admin:billing_statementrun_change", args=[run.pk]
            )

        return confirm_and_post(
            request,
            self,
            form_class=StatementRunForm,
            title="Start a statement run",
            permission="billing.add_statementrun",
            service=statement_run_start,
            service_kwargs=lambda form: {
                "month": form.cleaned_data["month"],
                "actor": request.user,
            },
            preview=preview,
            preview_in_dry_run=True,
            success=success,
        )


def run_preview(run: StatementRun) -> list[str]:
    """What starting `run` (read inside the rolled-back start) will do."""
    first = run.month
    lines = [f"Statements of {first:%B %Y}: {first:%d %b %Y} to {month_last(first):%d %b %Y}."]
    if run.status == StatementRunStatus.DONE:
        lines.append(
            f"{first:%B %Y} was run already (done {moment(run.finished_at)}): "
            f"{progress_text(run)}, {_count(run.emailed)} e-mailed. Nothing will be started."
        )
        return lines
    customers = statement_run_customers(first)
    by_email = customers.exclude(email="").filter(email_invoices=True).count()
    total = customers.count()
    lines.append(
        f"{_count(total)} credit customers get a statement; {_count(by_email)} of them take "
        "their documents by e-mail and are e-mailed, the others' are printed from the list."
    )
    if run.customers_done:
        lines.append(
            f"{_count(run.customers_done)} were issued already by this month's run: they are "
            "skipped, only the missing ones are issued."
        )
    lines.append("The statements are issued in the background; the run's page shows progress.")
    return lines


def run_started_message(run: StatementRun) -> str:
    if run.status == StatementRunStatus.DONE:
        return (
            f"The statements of {run.month:%B %Y} were done already "
            f"({moment(run.finished_at)}); nothing was started."
        )
    return f"The statement run of {run.month:%B %Y} is started; this page shows its progress."
