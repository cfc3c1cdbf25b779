"""Distributions (DST-): the list, the one-product collection or empty return ("add"),
the load sheet with every product (stock.admin_custody), and the read-only page with
the document's lines and the movements it posted."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db.models import Prefetch
from django.urls import path, reverse

from core.admin_flow import CappedCountPaginator, confirm_and_post
from core.admin_mixins import DepotScopedAdminMixin, HistoryAdmin
from core.display import moment, quantity
from stock import admin_custody, services
from stock.admin_documents import DOCUMENT_PAGE
from stock.admin_filters import LineProductFilter
from stock.admin_pages import distribution_panels, distribution_what, lines_as_posted
from stock.forms import DistributionForm
from stock.models import Distribution, DistributionKind, DistributionLine
from stock.selectors import stock_on_hand


def _moment_fields(fields, obj) -> list[str]:
    """ "Posted" and, beside it, "Happened" when the document happened at another moment
    than it was posted (synced from a handheld); as sales.admin.document_pages.moment_fields
    (stock does not import sales)."""
    differs = obj is not None and obj.occurred_at != obj.created_at
    shown: list[str] = []
    for name in fields:
        if name == "posted_shown":
            shown += ["posted_shown", "happened_shown"] if differs else ["posted_shown"]
        else:
            shown.append(name)
    return shown


@admin.register(Distribution)
class DistributionAdmin(DepotScopedAdminMixin, HistoryAdmin):
    list_display = ("distribution_no", "happened", "kind", "representative", "depot", "cylinders")
    list_filter = ("kind", "depot", LineProductFilter, "created_at")
    list_select_related = ("sales_rep", "depot", "created_by")
    search_fields = ("=distribution_no", "sales_rep__username", "sales_rep__vehicle_no")
    show_full_result_count = False
    paginator = CappedCountPaginator
    fields = (
        "distribution_no",
        "what",
        "representative",
        "depot",
        "total",
        "posted_shown",
    )
    readonly_fields = fields

    change_form_template = DOCUMENT_PAGE

    def get_queryset(self, request):
        lines = DistributionLine.objects.select_related("product")
        return super().get_queryset(request).prefetch_related(Prefetch("lines", queryset=lines))

    @admin.display(description="Happened", ordering="occurred_at")
    def happened(self, obj):
        return moment(obj.occurred_at)

    @admin.display(description="Vehicle", ordering="sales_rep__username")
    def representative(self, obj):
        return f"{obj.sales_rep.vehicle_no or 'no vehicle'} ({obj.sales_rep.username})"

    @admin.display(description="Cylinders")
    def cylinders(self, obj):
        return ", ".join(
            f"{quantity(line.quantity)} x {line.product.code}" for line in obj.lines.all()
        )

    @admin.display(description="Cylinders", ordering="quantity")
    def total(self, obj):
        return quantity(obj.quantity)

    @admin.display(description="What it is")
    def what(self, obj):
        return distribution_what(obj)

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
            extra_context["panels"] = distribution_panels(obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def get_fields(self, request, obj=None):
        return _moment_fields(super().get_fields(request, obj), obj)

    def get_readonly_fields(self, request, obj=None):
        return _moment_fields(super().get_readonly_fields(request, obj), obj)

    @admin.display(description="Posted")
    def posted_shown(self, obj):
        return f"{moment(obj.created_at)} by {obj.created_by}"

    @admin.display(description="Happened")
    def happened_shown(self, obj):
        return f"{moment(obj.occurred_at)} (on the handheld; posted when it synced)"

    def history_related(self, request, record):
        lines = DistributionLine.objects.filter(distribution_id=record.id).select_related("product")
        return [lines_as_posted("The cylinders on this document, as posted", lines)]

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
