"""Distributions (DST-): the list, the one-product collection or empty return ("add"),
the load sheet with every product (stock.admin_custody), and the read-only page with
the document's lines and the movements it posted."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db.models import Prefetch
from django.urls import path, reverse

from core.admin_flow import CappedCountPaginator, confirm_and_post
from core.admin_mixins import DepotScopedAdminMixin, HistoryAdmin
from stock import admin_custody, services
from stock.admin_documents import DOCUMENT_PAGE, _when, document_page
from stock.admin_filters import LineProductFilter
from stock.forms import DistributionForm
from stock.models import Distribution, DistributionKind, DistributionLine
from stock.selectors import stock_on_hand


def distribution_page(distribution) -> dict:
    lines = DistributionLine.objects.filter(distribution=distribution).select_related("product")
    return document_page(
        distribution,
        title="Cylinders on this document",
        headers=["Product", "Cylinders"],
        rows=[[line.product.code, line.quantity] for line in lines],
    )


def _moment_fields(fields, obj) -> list[str]:
    """created_at shown as "Posted" and, beside it, occurred_at as "Happened" when the
    document happened at another moment than it was posted (synced from a handheld);
    as sales.admin.document_pages.moment_fields (stock does not import sales)."""
    differs = obj is not None and obj.occurred_at != obj.created_at
    shown: list[str] = []
    for name in fields:
        if name == "created_at":
            shown += ["posted_shown", "happened_shown"] if differs else ["posted_shown"]
        elif name != "occurred_at":
            shown.append(name)
    return shown


@admin.register(Distribution)
class DistributionAdmin(DepotScopedAdminMixin, HistoryAdmin):
    list_display = (
        "distribution_no",
        "created_at",
        "kind",
        "sales_rep",
        "vehicle",
        "depot",
        "cylinders",
        "quantity",
        "created_by",
    )
    list_filter = ("kind", "depot", LineProductFilter, "created_at")
    list_select_related = ("sales_rep", "depot", "created_by")
    search_fields = ("=distribution_no", "sales_rep__username", "sales_rep__vehicle_no")
    show_full_result_count = False
    paginator = CappedCountPaginator
    readonly_fields = [f.name for f in Distribution._meta.fields]

    change_form_template = DOCUMENT_PAGE

    def get_queryset(self, request):
        lines = DistributionLine.objects.select_related("product")
        return super().get_queryset(request).prefetch_related(Prefetch("lines", queryset=lines))

    @admin.display(description="Vehicle")
    def vehicle(self, obj):
        return obj.sales_rep.vehicle_no

    @admin.display(description="Cylinders")
    def cylinders(self, obj):
        return ", ".join(f"{line.quantity} x {line.product.code}" for line in obj.lines.all())

    def get_urls(self):
        view = self.admin_site.admin_view(self.load_sheet_view)
        return [
            path("load-sheet/", view, name="stock_distribution_load_sheet"),
            *super().get_urls(),
        ]

    def load_sheet_view(self, request):
        return admin_custody.load_sheet_view(self, request)

    def changelist_view(self, request, extra_context=None):
        can = request.user.has_perm("stock.add_distribution")
        return super().changelist_view(request, {**(extra_context or {}), "can_load": can})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        extra_context = dict(extra_context or {})
        if obj is not None:  # else the admin says it does not exist
            extra_context["page"] = distribution_page(obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if obj is not None and obj.product_id is None:  # several products: see its lines
            fields.remove("product")
        return _moment_fields(fields, obj)

    def get_readonly_fields(self, request, obj=None):
        return _moment_fields(super().get_readonly_fields(request, obj), obj)

    @admin.display(description="Posted")
    def posted_shown(self, obj):
        return _when(obj.created_at)

    @admin.display(description="Happened")
    def happened_shown(self, obj):
        return f"{_when(obj.occurred_at)} (on the handheld; posted when it synced)"

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        def preview(form, distribution):
            d = form.cleaned_data
            rep, product, quantity = d["sales_rep"], d["product"], d["quantity"]
            depot = rep.home_depot
            flow = DistributionKind(d["kind"])
            at_depot = stock_on_hand(product=product, state=flow.state, depot=depot)
            on_vehicle = stock_on_hand(product=product, state=flow.state, sales_rep=rep)
            vehicle = f"vehicle {rep.vehicle_no} ({rep.username})"
            if flow.to_vehicle:
                return [
                    f"Collection: {quantity} full {product.code} cylinders from depot "
                    f"{depot.code} to {vehicle}.",
                    f"Depot {depot.code}: {at_depot} -> {at_depot - quantity}; "
                    f"vehicle: {on_vehicle} -> {on_vehicle + quantity}.",
                ]
            return [
                f"Empty return: {quantity} empty {product.code} cylinders from {vehicle} "
                f"to depot {depot.code}.",
                f"Vehicle: {on_vehicle} -> {on_vehicle - quantity}; "
                f"depot {depot.code}: {at_depot} -> {at_depot + quantity}.",
            ]

        def kwargs(form):
            d = form.cleaned_data
            return {
                "sales_rep": d["sales_rep"],
                "depot": d["sales_rep"].home_depot,
                "product": d["product"],
                "quantity": d["quantity"],
                "kind": d["kind"],
                "actor": request.user,
            }

        return confirm_and_post(
            request,
            self,
            form_class=DistributionForm,
            title="Record a collection or empty return",
            permission="stock.add_distribution",
            service=services.distribution_create,
            service_kwargs=kwargs,
            preview=preview,
            success=lambda d: (
                f"{d.distribution_no} posted: {d.get_kind_display().lower()} "
                f"of {d.quantity} {d.product.code} for {d.sales_rep.username}.",
                reverse("admin:stock_distribution_changelist"),
            ),
        )
