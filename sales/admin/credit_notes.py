"""Credit notes: the documents voids issue. Read only: a credit note is written by
sale_void and never changed."""

from django.contrib import admin
from django.contrib.admin.utils import unquote

from core.admin_flow import CappedCountPaginator
from core.admin_mixins import DepotScopedAdminMixin, ReadOnlyAdminMixin
from sales.admin.inlines import ReadOnlyInline
from sales.admin.page_rows import credit_note_page
from sales.models import CreditNote


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdminMixin, DepotScopedAdminMixin, admin.ModelAdmin):
    list_display = ("number", "created_at", "transaction", "customer", "amount", "created_by")
    list_filter = ("created_at", "transaction__depot")
    search_fields = ("=number",)
    list_select_related = ("transaction__customer", "created_by")
    show_full_result_count = False
    paginator = CappedCountPaginator
    fields = ("number", "created_at", "transaction", "customer", "amount", "reason", "created_by")
    readonly_fields = fields

    @admin.display(description="Customer", ordering="transaction__customer__code")
    def customer(self, obj: CreditNote) -> str:
        return str(obj.transaction.customer)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_resend": request.user.has_perm("core.resend_outboxmessage"),
        }
        note = self.get_object(request, unquote(object_id))
        if note is not None:  # else the admin says it does not exist
            extra_context["page"] = credit_note_page(note, user=request.user)
        return super().change_view(request, object_id, form_url, extra_context)

    def lookup_allowed(self, lookup, value, request=None):
        # The customer page's "All credit notes" link.
        return lookup == "transaction__customer__id__exact" or super().lookup_allowed(
            lookup, value, request
        )

    def get_search_results(self, request, queryset, search_term):
        """A credit note's number, typed in any case (the unique index answers it)."""
        term = search_term.replace("\x00", "").strip()
        if not term:
            return queryset, False
        return queryset.filter(number=term.upper()), False


class CreditNoteInline(ReadOnlyInline):
    """A voided sale's credit note as an inline (the sale's page shows it in its own panel)."""

    model = CreditNote
    fields = ("number", "created_at", "amount", "reason", "created_by")
    readonly_fields = fields
    verbose_name_plural = "credit note"
