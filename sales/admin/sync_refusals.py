"""Sync refusals: the documents a handheld's sync sent that were refused, waiting for a
manager (their depots'; head office all). The list says what each was and why it was
refused; its page shows the document as sent; "Correct and repost" posts it, corrected,
as the representative (sales.services.sync.sync_refusal_repost), "Dismiss" closes it
with a reason (sync_refusal_dismiss)."""

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db.models import OuterRef, Subquery
from django.db.models.fields.json import KT
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core.admin_flow import CappedCountPaginator, confirm_and_post
from core.admin_mixins import DepotScopedAdminMixin
from sales.admin.list_cells import two_lines
from sales.admin.sync_refusal_forms import (
    DismissForm,
    RepostForm,
    document_lines,
    document_words,
)
from sales.api_sync import repost_as_representative
from sales.models import Customer, SyncRefusal, SyncRefusalStatus
from sales.services.sync import sync_refusal_dismiss, sync_refusal_repost

RESOLVE = "sales.resolve_syncrefusal"
FIELD_LABELS = {
    "occurred_at": "When it happened",
    "customer": "Customer",
    "meter_reading": "Meter reading",
    "amount": "Amount",
    "method": "Method",
    "reference": "Reference",
    "received_on": "Received on",
    "kind": "Kind",
    "depot": "Depot",
    "sales_rep": "Representative",
}


class StatusFilter(admin.SimpleListFilter):
    """Open refusals unless asked otherwise: they are the ones that need a decision."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*SyncRefusalStatus.choices, ("all", "All")]

    def choices(self, changelist):
        value = self.value() or SyncRefusalStatus.OPEN
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or SyncRefusalStatus.OPEN
        if value == "all":
            return queryset
        if value not in SyncRefusalStatus.values:
            return queryset.none()
        return queryset.filter(status=value)


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "-"


@admin.register(SyncRefusal)
class SyncRefusalAdmin(DepotScopedAdminMixin, admin.ModelAdmin):
    # Fits 1366 px: when (who and the handheld's id under), what it was, why, status.
    list_display = ("received_shown", "what_it_was", "reason", "status")
    list_display_links = ("received_shown",)
    list_filter = (StatusFilter, "depot")
    search_fields = ("=client_id", "=sales_rep__username")
    list_select_related = ("sales_rep", "depot")
    show_full_result_count = False
    paginator = CappedCountPaginator
    fields = (
        "received",
        "representative",
        "depot",
        "doc_type",
        "client_id",
        "happened",
        "what_it_was",
        "document_as_sent",
        "reason",
        "fields_at_fault",
        "status",
        "resolution",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        name = Customer.objects.filter(code=OuterRef("customer_code")).values("name")[:1]
        return (
            super()
            .get_queryset(request)
            .annotate(customer_code=KT("document__customer"))
            .annotate(customer_name=Subquery(name))
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Received", ordering="received_at")
    def received(self, obj: SyncRefusal) -> str:
        return _when(obj.received_at)

    @admin.display(description="Received", ordering="received_at")
    def received_shown(self, obj: SyncRefusal) -> str:
        return two_lines(_when(obj.received_at), f"{self.representative(obj)} · {obj.client_id}")

    @admin.display(description="Happened")
    def happened(self, obj: SyncRefusal) -> str:
        return _when(obj.occurred_at)

    @admin.display(description="Representative", ordering="sales_rep__username")
    def representative(self, obj: SyncRefusal) -> str:
        rep = obj.sales_rep
        return f"{rep.username} ({rep.vehicle_no})" if rep.vehicle_no else rep.username

    @admin.display(description="What it was")
    def what_it_was(self, obj: SyncRefusal) -> str:
        return document_words(obj, getattr(obj, "customer_name", None))

    @admin.display(description="Why it was refused")
    def reason(self, obj: SyncRefusal) -> str:
        return obj.error_message

    @admin.display(description="Fields at fault")
    def fields_at_fault(self, obj: SyncRefusal) -> str:
        fields = obj.error_fields if isinstance(obj.error_fields, dict) else {}
        if not fields:
            return "-"
        return format_html_join(
            "",
            "<div><strong>{}</strong>: {}</div>",
            ((name, " ".join(map(str, messages))) for name, messages in fields.items()),
        )

    @admin.display(description="Decision")
    def resolution(self, obj: SyncRefusal) -> str:
        if obj.status == SyncRefusalStatus.OPEN:
            return "Waiting for a decision."
        who = obj.resolved_by.username if obj.resolved_by else "-"
        posted = f" as {obj.reposted_number}" if obj.reposted_number else ""
        return (
            f"{obj.get_status_display()}{posted} by {who} on {_when(obj.resolved_at)}: "
            f"{obj.resolution_note}"
        )

    @admin.display(description="The document as sent")
    def document_as_sent(self, obj: SyncRefusal) -> str:
        document = obj.document if isinstance(obj.document, dict) else {}
        shown = [
            (FIELD_LABELS.get(name, name.replace("_", " ").capitalize()), value)
            for name, value in document.items()
            if name not in ("client_id", "type", "lines", "product", "quantity")
        ]
        rows = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", shown)
        lines = document_lines(document)
        line_rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    line.get("product", "-"),
                    line.get("quantity", "-"),
                    line.get("empties_returned", "-"),
                )
                for line in lines
            ),
        )
        lines_table = (
            format_html(
                '<table class="sync-lines"><thead><tr><th>Product</th><th>Cylinders</th>'
                "<th>Empties back</th></tr></thead><tbody>{}</tbody></table>",
                line_rows,
            )
            if lines
            else ""
        )
        return format_html(
            '<table class="sync-document"><tbody>{}</tbody></table>{}', rows, lines_table
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/repost/", wrap(self.repost_view), name="sales_syncrefusal_repost"),
            path("<int:pk>/dismiss/", wrap(self.dismiss_view), name="sales_syncrefusal_dismiss"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        refusal = self.get_object(request, unquote(object_id))
        extra: dict[str, Any] = dict(extra_context or {})
        if refusal is not None and refusal.status == SyncRefusalStatus.OPEN:
            extra["can_resolve"] = request.user.has_perm(RESOLVE)
        return super().change_view(request, object_id, form_url, extra)

    def _refusal(self, request, pk) -> SyncRefusal:
        return get_object_or_404(self.get_queryset(request), pk=pk)

    def repost_view(self, request, pk):
        """The document's fields to correct, a preview (the real posting, rolled back),
        then posted once as the representative."""
        refusal = self._refusal(request, pk)
        page = reverse("admin:sales_syncrefusal_change", args=[refusal.pk])

        def preview(form, resolved):
            return [
                f"Post {document_words(resolved, None).lower()} as "
                f"{resolved.sales_rep.username}, under client id {resolved.client_id}.",
                f"It would be {resolved.reposted_number}.",
                f"The refusal is settled as corrected and posted by {request.user.username}.",
            ]

        return confirm_and_post(
            request,
            self,
            form_class=RepostForm,
            form_kwargs={"refusal": refusal},
            title=f"Correct and repost {refusal}",
            permission=RESOLVE,
            service=sync_refusal_repost,
            service_kwargs=lambda form: {
                "refusal": refusal,
                "document": form.document(),
                "actor": request.user,
                "post": repost_as_representative,
                "note": form.cleaned_data.get("note", ""),
            },
            preview=lambda form, resolved: preview(form, _with_document(resolved, form)),
            preview_in_dry_run=True,
            success=lambda resolved: (
                f"{resolved.reposted_number} posted as {resolved.sales_rep.username}; "
                "the refusal is settled.",
                page,
            ),
        )

    def dismiss_view(self, request, pk):
        refusal = self._refusal(request, pk)
        page = reverse("admin:sales_syncrefusal_change", args=[refusal.pk])
        return confirm_and_post(
            request,
            self,
            form_class=DismissForm,
            form_kwargs={"refusal": refusal},
            title=f"Dismiss {refusal}",
            permission=RESOLVE,
            service=sync_refusal_dismiss,
            service_kwargs=lambda form: {
                "refusal": refusal,
                "actor": request.user,
                "reason": form.cleaned_data["reason"],
            },
            preview=lambda form, resolved: [
                f"Dismiss {document_words(resolved).lower()}, sent by "
                f"{resolved.sales_rep.username}: nothing is posted.",
                f"Reason: {form.cleaned_data['reason']}",
            ],
            success=lambda resolved: (f"{resolved} dismissed.", page),
        )


def _with_document(refusal: SyncRefusal, form: RepostForm) -> SyncRefusal:
    """The refusal showing the corrected document (for the preview's words)."""
    refusal.document = {**form.document(), "type": refusal.doc_type}
    return refusal
