"""The outbox's screen (core.OutboxMessage): every document e-mail, its status and why it
failed, read-only, with a "Resend" action for head office (billing.services.outbox_resend).
And the statements issued (billing.CustomerStatement): read-only, each with its PDF.

The outbox is registered here, not in core's admin: the action calls billing, and core
never imports a layer above it."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.html import format_html

from billing.models import CustomerStatement
from billing.services import outbox_resend
from billing.services.layout import money
from billing.services.statement_pdf import day_text
from core.admin_flow import CappedCountPaginator
from core.admin_mixins import DepotScopedAdminMixin, ReadOnlyAdminMixin
from core.models import OutboxMessage, OutboxStatus
from core.scoping import scope_queryset

STATUS_COLOURS = {
    OutboxStatus.PENDING: "#8a6d00",
    OutboxStatus.SENDING: "#1f5fa8",
    OutboxStatus.SENT: "#2e7d32",
    OutboxStatus.FAILED: "#b00020",
}


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "kind",
        "number",
        "to",
        "status_label",
        "attempts",
        "error",
        "sent_at",
    )
    list_filter = ("status", "kind")
    search_fields = ("=number", "to")
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 100
    actions = ["resend"]
    fields = (
        "kind",
        "number",
        "document_type",
        "document_id",
        "to",
        "status_label",
        "attempts",
        "next_attempt_at",
        "last_error",
        "sent_at",
        "created_at",
        "resend_of",
        "key",
    )
    readonly_fields = fields

    @admin.display(description="Status", ordering="status")
    def status_label(self, obj: OutboxMessage) -> str:
        return format_html(
            '<strong style="color: {}">{}</strong>',
            STATUS_COLOURS.get(OutboxStatus(obj.status), "inherit"),
            obj.get_status_display(),
        )

    @admin.display(description="Last error")
    def error(self, obj: OutboxMessage) -> str:
        text = obj.last_error
        return text if len(text) <= 90 else text[:90] + "..."

    def has_resend_permission(self, request) -> bool:
        return request.user.has_perm("core.resend_outboxmessage")

    @admin.action(description="Resend the selected e-mails", permissions=["resend"])
    def resend(self, request, queryset) -> None:
        done = []
        for message in queryset.order_by("pk"):
            try:
                again = outbox_resend(message=message, actor=request.user)
            except (ValidationError, PermissionDenied) as exc:
                text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                messages.error(request, text)
                continue
            done.append(f"{again.number} to {again.to}")
        if done:
            messages.success(request, f"Sending again: {', '.join(done)}.")


class PeriodEndFilter(admin.DateFieldListFilter):
    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = "period ending"


class EmailedFilter(admin.SimpleListFilter):
    title = "e-mailed"
    parameter_name = "emailed"

    def lookups(self, request, model_admin):
        return (("yes", "E-mailed"), ("no", "Not e-mailed (paper)"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(emailed_to="")
        if self.value() == "no":
            return queryset.filter(emailed_to="")
        return queryset


@admin.register(CustomerStatement)
class CustomerStatementAdmin(ReadOnlyAdminMixin, DepotScopedAdminMixin, admin.ModelAdmin):
    """Statements issued (from a customer's page or by a monthly run), newest first, each
    with its PDF; written by billing.services.statement_issue, never changed. A manager
    sees their depots' customers' statements."""

    list_display = (
        "statement_number",
        "customer",
        "period",
        "opening",
        "closing",
        "emailed_to",
        "run",
        "created_at",
        "pdf",
    )
    list_filter = ("customer__depot", EmailedFilter, ("date_to", PeriodEndFilter), "created_at")
    search_fields = ("=customer__code",)
    search_help_text = "A customer's code (exactly)."
    list_select_related = ("customer", "run")
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 100
    fields = (
        "statement_number",
        "customer",
        "date_from",
        "date_to",
        "opening",
        "closing",
        "emailed_to",
        "run",
        "created_at",
        "created_by",
        "pdf",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return scope_queryset(super().get_queryset(request), request.user, "customer__depot")

    @admin.display(description="Number", ordering="pk")
    def statement_number(self, obj: CustomerStatement) -> str:
        return obj.number

    @admin.display(description="Period", ordering="date_to")
    def period(self, obj: CustomerStatement) -> str:
        return format_html(
            '<span style="white-space: nowrap">{} to {}</span>',
            day_text(obj.date_from),
            day_text(obj.date_to),
        )

    @admin.display(description="Brought forward", ordering="opening_balance")
    def opening(self, obj: CustomerStatement) -> str:
        return money(obj.opening_balance)

    @admin.display(description="Closing balance", ordering="closing_balance")
    def closing(self, obj: CustomerStatement) -> str:
        return money(obj.closing_balance)

    @admin.display(description="PDF")
    def pdf(self, obj: CustomerStatement) -> str:
        if obj.pk is None:
            return ""
        return format_html(
            '<a href="{}">Download</a>', reverse("billing:issued_statement_pdf", args=[obj.pk])
        )


from billing import admin_statements  # noqa: E402, F401  (the statement runs: billing/admin_statements.py)
