"""The outbox's screen (core.OutboxMessage): every document e-mail, its status and why it
failed, read-only, with a "Resend" action for head office (billing.services.outbox_resend).

Registered here, not in core's admin: the action calls billing, and core never imports a
layer above it."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.html import format_html

from billing.services import outbox_resend
from core.admin_flow import CappedCountPaginator
from core.admin_mixins import ReadOnlyAdminMixin
from core.models import OutboxMessage, OutboxStatus

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
