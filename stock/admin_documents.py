"""The custody documents' lists and pages: transfers (TRF-) and count sheets (CNT-), read
only, each page with its lines and the stock movements it posted; the same panels show a
distribution (DST-, stock.admin_distributions). Their entry forms are the "add"
pages (stock.admin_custody)."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db.models import Prefetch, Q

from core.admin_flow import CappedCountPaginator
from core.admin_mixins import DepotScopedAdminMixin, HistoryAdmin
from core.scoping import ALL, visible_depot_ids
from stock.admin_custody import count_sheet_view, transfer_view
from stock.admin_filters import VehicleFilter
from stock.models import (
    StockCount,
    StockCountLine,
    StockMovement,
    StockState,
    Transfer,
    TransferLine,
)

DOCUMENT_PAGE = "admin/stock/document_change_form.html"


def _when(moment) -> str:
    from django.utils import timezone

    return timezone.localtime(moment).strftime("%d %b %Y, %H:%M")


def movements_of(document) -> list[list]:
    """The ledger rows a document posted, oldest first, as table rows."""
    rows = (
        StockMovement.objects.filter(doc_type=document._meta.label_lower, doc_id=document.pk)
        .select_related(
            "product",
            "from_level__depot",
            "from_level__sales_rep",
            "to_level__depot",
            "to_level__sales_rep",
        )
        .order_by("id")
    )
    return [
        [
            _when(m.created_at),
            m.get_kind_display(),
            m.product.code,
            StockState(m.state).label,
            m.quantity,
            m.from_level.location_label if m.from_level_id else "-",
            m.to_level.location_label if m.to_level_id else "-",
        ]
        for m in rows
    ]


def document_page(document, *, title: str, headers: list[str], rows: list[list]) -> dict:
    return {
        "lines_title": title,
        "headers": headers,
        "rows": rows,
        "movements": movements_of(document),
    }


def _lines_text(lines) -> str:
    return ", ".join(f"{line.quantity} x {line.product.code}" for line in lines) or "-"


class _DocumentAdmin(DepotScopedAdminMixin):
    """Read-only posted documents; "add" is the document's entry screen. A subclass
    gives page(obj): the panels of its change page (document_page)."""

    add_permission = ""
    change_form_template = DOCUMENT_PAGE
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 100

    def has_add_permission(self, request):
        return request.user.has_perm(self.add_permission)

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
            extra_context["page"] = self.page(obj)
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(Transfer)
class TransferAdmin(_DocumentAdmin, HistoryAdmin):
    add_permission = "stock.transfer_stock"
    list_display = (
        "number",
        "created_at",
        "from_depot",
        "to_depot",
        "state",
        "cylinders",
        "reference",
        "created_by",
    )
    list_filter = ("state", "from_depot", "to_depot", "created_at")
    list_select_related = ("from_depot", "to_depot", "created_by")
    search_fields = ("number", "reference")
    search_help_text = "A transfer's number (TRF-2026-000012) or its waybill reference."
    fields = ("number", "created_at", "from_depot", "to_depot", "state", "reference", "created_by")
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

    @admin.display(description="Cylinders")
    def cylinders(self, obj):
        return _lines_text(obj.lines.all())

    def add_view(self, request, form_url="", extra_context=None):
        return transfer_view(self, request)

    def page(self, obj) -> dict:
        state = StockState(obj.state).label.lower()
        return document_page(
            obj,
            title=f"{StockState(obj.state).label} cylinders from {obj.from_depot.code} "
            f"to {obj.to_depot.code}",
            headers=["Product", f"Cylinders ({state})"],
            rows=[[line.product.code, line.quantity] for line in obj.lines.all()],
        )


@admin.register(StockCount)
class StockCountAdmin(_DocumentAdmin, admin.ModelAdmin):
    add_permission = "stock.count_stock"
    list_display = ("number", "created_at", "place", "differences", "reason", "created_by")
    list_filter = ("depot", VehicleFilter, "created_at")
    list_select_related = ("depot", "sales_rep", "created_by")
    search_fields = ("number",)
    search_help_text = "A count sheet's number (CNT-2026-000012)."
    fields = ("number", "created_at", "depot", "sales_rep", "reason", "created_by")
    readonly_fields = fields

    def get_queryset(self, request):
        lines = StockCountLine.objects.select_related("product")
        return super().get_queryset(request).prefetch_related(Prefetch("lines", queryset=lines))

    @admin.display(description="Counted at", ordering="depot__code")
    def place(self, obj):
        if obj.sales_rep_id:
            return f"vehicle {obj.sales_rep.vehicle_no or '-'} ({obj.sales_rep.username})"
        return f"depot {obj.depot.code}"

    @admin.display(description="Differences")
    def differences(self, obj):
        found = [
            f"{line.product.code} {line.state.lower()} {line.difference:+d}"
            for line in obj.lines.all()
            if line.difference
        ]
        return ", ".join(found) or "none"

    def add_view(self, request, form_url="", extra_context=None):
        return count_sheet_view(self, request)

    def page(self, obj) -> dict:
        return document_page(
            obj,
            title="The count, against what the system held when it was posted",
            headers=["Product", "State", "System", "Counted", "Difference"],
            rows=[
                [
                    line.product.code,
                    StockState(line.state).label,
                    line.system_quantity,
                    line.counted,
                    f"{line.difference:+d}" if line.difference else "0",
                ]
                for line in obj.lines.all()
            ],
        )
