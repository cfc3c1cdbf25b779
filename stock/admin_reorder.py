"""Reorder levels: their own list (head office sets them, through
stock.services.reorder_level_set; managers see their depots'), and the depot page's panel
of its levels with the full cylinders it holds now."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core.admin import DepotAdmin
from core.admin_mixins import DepotScopedAdminMixin, HistoryAdmin
from core.admin_services import ServiceSaveAdminMixin
from core.models import Depot
from core.scoping import scope_queryset
from stock.models import Product, ProductKind, ReorderLevel
from stock.selectors import reorder_levels_stock
from stock.services import reorder_level_set


def level_status(level):
    """ "Below by N" (bold) or "OK", for a level read with its `full`."""
    if level.full < level.minimum_full:
        return format_html("<strong>Below by {}</strong>", level.minimum_full - level.full)
    return "OK"


@admin.register(ReorderLevel)
class ReorderLevelAdmin(ServiceSaveAdminMixin, DepotScopedAdminMixin, HistoryAdmin):
    list_display = ("depot", "product", "minimum_full", "full_now", "status", "alerted_at")

    def history_name(self, obj) -> str:
        return f"the reorder level of {obj.product.code} at depot {obj.depot.code}"

    list_filter = ("depot", "product")
    list_select_related = ("depot", "product")
    fields = ("depot", "product", "minimum_full")
    show_full_result_count = False

    def get_queryset(self, request):
        # The full cylinders at the depot now, in the list's own query.
        return scope_queryset(reorder_levels_stock(), request.user)

    def get_readonly_fields(self, request, obj=None):
        # A level is its depot's and product's: another pair is another level.
        return ("depot", "product") if obj is not None else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "product":
            kwargs["queryset"] = Product.objects.filter(kind=ProductKind.CYLINDER, is_active=True)
        if db_field.name == "depot":
            kwargs["queryset"] = Depot.objects.filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="Full at the depot now", ordering="full")
    def full_now(self, obj):
        return obj.full

    @admin.display(description="Status")
    def status(self, obj):
        return level_status(obj)

    def service_create(self, request, form, values):
        return reorder_level_set(
            depot=values["depot"],
            product=values["product"],
            minimum_full=values["minimum_full"],
            actor=request.user,
        )

    def service_update(self, request, obj, form, values):
        return reorder_level_set(
            depot=obj.depot,
            product=obj.product,
            minimum_full=values.get("minimum_full", obj.minimum_full),
            actor=request.user,
        )

    def has_delete_permission(self, request, obj=None):
        return False  # a minimum of 0 switches it off; the history stays


class DepotWithReorderLevelsAdmin(DepotAdmin):
    """The depot page (core.admin.DepotAdmin) with its reorder levels, read-only (they are
    changed on their own page, through the service): stock adds them, since core may not
    import stock. A read-only panel, not an inline: the depot's form posts as before."""

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and request.user.has_perm("stock.view_reorderlevel"):
            fields += ("reorder_levels",)
        return fields

    @admin.display(description="Reorder levels (minimum full cylinders)")
    def reorder_levels(self, obj):
        levels = (
            reorder_levels_stock()
            .filter(depot=obj)
            .select_related("product")
            .order_by("product__sort_order", "product__code")
        )
        rows = format_html_join(
            "",
            '<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><a href="{}">Change</a></td></tr>',
            (
                (
                    level.product.code,
                    level.minimum_full,
                    level.full,
                    level_status(level),
                    reverse("admin:stock_reorderlevel_change", args=[level.pk]),
                )
                for level in levels
            ),
        )
        if not rows:
            return "None set (Stock > Reorder levels)."
        return format_html(
            "<table><thead><tr><th>Product</th><th>Minimum full</th><th>Full now</th>"
            "<th>Status</th><th></th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )


admin.site.unregister(Depot)
admin.site.register(Depot, DepotWithReorderLevelsAdmin)
