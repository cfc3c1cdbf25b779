"""Credit notes: the documents voids issue. Read only: a credit note is written by
sale_void and never changed."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.urls import reverse
from django.utils.html import format_html

from core.admin_flow import CappedCountPaginator
from core.admin_mixins import DepotScopedAdminMixin, ReadOnlyAdminMixin
from core.display import moment, money
from sales.admin.inlines import ReadOnlyInline
from sales.admin.list_cells import two_lines
from sales.admin.page_rows import credit_note_page
from sales.models import CreditNote


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdminMixin, DepotScopedAdminMixin, admin.ModelAdmin):
    # Fits 1366 px: number, customer, the sale it credits, amount; dates and who on
    # second lines.
    list_display = ("credit_note", "customer", "sale", "amount_credited")
    list_filter = ("created_at", "transaction__depot")
    search_fields = ("=number",)
    list_select_related = ("transaction__customer", "created_by")
    list_display_links = ("credit_note",)
    show_full_result_count = False
    paginator = CappedCountPaginator
    fields = ("number", "created_at", "transaction", "customer", "amount", "reason", "created_by")
    readonly_fields = fields

    @admin.display(description="Customer", ordering="transaction__customer__code")
    def customer(self, obj: CreditNote) -> str:
        return str(obj.transaction.customer)

    @admin.display(description="Credit note", ordering="id")
    def credit_note(self, obj: CreditNote) -> str:
        return two_lines(obj.number, f"{moment(obj.created_at)} by {obj.created_by.username}")

    @admin.display(description="Credits sale", ordering="transaction__number")
    def sale(self, obj: CreditNote) -> str:
        url = reverse("admin:sales_transaction_change", args=[obj.transaction_id])
        return format_html('<a href="{}">{}</a>', url, obj.transaction.number)

    @admin.display(description="Amount", ordering="amount")
    def amount_credited(self, obj: CreditNote) -> str:
        return money(obj.amount)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            "title": "Credit note",  # not "View transaction": the page is read, never edited
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
