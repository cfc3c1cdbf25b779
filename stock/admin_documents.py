"""The custody documents' lists and pages: transfers (TRF-) and count sheets (CNT-), read
only, each page with its lines and the stock movements it posted; the same panels show a
distribution (DST-, stock.admin_distributions). Their entry forms are the "add"
pages (stock.admin_custody)."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db.models import Prefetch, Q

from core.admin_flow import CappedCountPaginator
from core.admin_mixins import DepotScopedAdminMixin, HistoryAdmin
from core.display import moment, quantity
from core.scoping import ALL, visible_depot_ids
from stock.admin_custody import count_sheet_view, transfer_view
from stock.admin_filters import VehicleFilter
from stock.admin_pages import (
    count_panels,
    count_place,
    lines_as_posted,
    signed,
    transfer_panels,
    transfer_what,
)
from stock.models import StockCount, StockCountLine, StockState, Transfer, TransferLine

DOCUMENT_PAGE = "admin/stock/document_change_form.html"


def _lines_text(lines) -> str:
    return ", ".join(f"{quantity(line.quantity)} x {line.product.code}" for line in lines) or "-"


class _DocumentAdmin(DepotScopedAdminMixin):
    """Read-only posted documents; "add" is the document's entry screen. A subclass
    gives panels(obj): the tables of its change page (stock.admin_pages)."""

    add_permission = ""
    change_form_template = DOCUMENT_PAGE
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 100

    def has_add_permission(self, request):
        return request.user.has_perm(self.add_permission)

    @admin.display(description="Posted", ordering="created_at")
    def posted(self, obj):
        return moment(obj.created_at)

    @admin.display(description="Posted")
    def posted_by(self, obj):
        return f"{moment(obj.created_at)} by {obj.created_by}"

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        """A document's number, exactly (through its unique index), in any case."""
        term = search_term.replace("\x00", "").strip()  # PostgreSQL refuses NUL in text
        if not term:
            return queryset, False
        return queryset.filter(self.search_lookup(term)), False

    def search_lookup(self, term: str) -> Q:
        return Q(number=term.upper())

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        obj = self.get_object(request, unquote(object_id))
        if obj is not None:  # else the admin says it does not exist
            extra_context["panels"] = self.panels(obj)
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(Transfer)
class TransferAdmin(_DocumentAdmin, HistoryAdmin):
    add_permission = "stock.transfer_stock"
    list_display = ("number", "posted", "route", "cylinders", "reference")
    list_filter = ("state", "from_depot", "to_depot", "created_at")
    list_select_related = ("from_depot", "to_depot", "created_by")
    search_fields = ("number", "reference")
    search_help_text = "A transfer's number (TRF-2026-000012) or its waybill reference."
    fields = ("number", "what", "from_depot", "to_depot", "waybill", "posted_by")
    readonly_fields = fields

    def get_queryset(self, request):
        """A manager sees the transfers that leave or reach their depots."""
        queryset = super(DepotScopedAdminMixin, self).get_queryset(request)
        depot_ids = visible_depot_ids(request.user)
        if depot_ids is not ALL:
            queryset = queryset.filter(Q(from_depot__in=depot_ids) | Q(to_depot__in=depot_ids))
        lines = TransferLine.objects.select_related("product")
        return queryset.prefetch_related(Prefetch("lines", queryset=lines))

    def search_lookup(self, term: str) -> Q:
        return Q(number=term.upper()) | Q(reference=term)

    @admin.display(description="From → to", ordering="from_depot__code")
    def route(self, obj):
        return f"{obj.from_depot.code} → {obj.to_depot.code}"

    @admin.display(description="Cylinders")
    def cylinders(self, obj):
        return f"{_lines_text(obj.lines.all())} ({StockState(obj.state).label.lower()})"

    @admin.display(description="What it is")
    def what(self, obj):
        return transfer_what(obj)

    @admin.display(description="Waybill or reference")
    def waybill(self, obj):
        return obj.reference or "None given"

    def add_view(self, request, form_url="", extra_context=None):
        return transfer_view(self, request)

    def history_related(self, request, record):
        lines = TransferLine.objects.filter(transfer_id=record.id).select_related("product")
        return [lines_as_posted("The cylinders transferred, as posted", lines)]

    def panels(self, obj) -> list:
        return transfer_panels(obj)


@admin.register(StockCount)
class StockCountAdmin(_DocumentAdmin, admin.ModelAdmin):
    add_permission = "stock.count_stock"
    list_display = ("number", "posted", "place", "differences", "reason")
    list_filter = ("depot", VehicleFilter, "created_at")
    list_select_related = ("depot", "sales_rep", "created_by")
    search_fields = ("number",)
    search_help_text = "A count sheet's number (CNT-2026-000012)."
    fields = ("number", "counted_where", "reason", "variance", "posted_by")
    readonly_fields = fields

    def get_queryset(self, request):
        lines = StockCountLine.objects.select_related("product")
        return super().get_queryset(request).prefetch_related(Prefetch("lines", queryset=lines))

    @admin.display(description="Counted at", ordering="depot__code")
    def place(self, obj):
        if obj.sales_rep_id:
            return f"vehicle {obj.sales_rep.vehicle_no or '-'} ({obj.sales_rep.username})"
        return f"depot {obj.depot.code}"

    @admin.display(description="Counted at")
    def counted_where(self, obj):
        place = count_place(obj)
        return place[:1].upper() + place[1:]

    @admin.display(description="Variances")
    def differences(self, obj):
        found = [
            f"{line.product.code} {StockState(line.state).label.lower()} "
            f"{signed(line.difference).text}"
            for line in obj.lines.all()
            if line.difference
        ]
        return ", ".join(found) or "none"

    @admin.display(description="Variance")
    def variance(self, obj):
        lines = list(obj.lines.all())
        off = [line for line in lines if line.difference]
        if not off:
            return f"None: all {quantity(len(lines))} lines matched the system."
        return (
            f"{quantity(len(off))} of {quantity(len(lines))} lines differ: {self.differences(obj)}."
        )

    def add_view(self, request, form_url="", extra_context=None):
        return count_sheet_view(self, request)

    def panels(self, obj) -> list:
        return count_panels(obj)
