"""Reorder levels: their own list (head office sets them, through
stock.services.reorder_level_set; managers see their depots'), and the depot page's panel
of its levels with the full cylinders it holds now."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

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


class ReorderLevelInline(admin.TabularInline):
    """The depot's levels, read-only: they are changed on their own page (the service)."""

    model = ReorderLevel
    fields = ("product", "minimum_full", "full_now", "status", "change_link")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "Reorder levels (minimum full cylinders)"

    def get_queryset(self, request):
        return reorder_levels_stock().select_related("product")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("stock.view_reorderlevel")

    @admin.display(description="Full now")
    def full_now(self, obj):
        return obj.full

    @admin.display(description="Status")
    def status(self, obj):
        return level_status(obj)

    @admin.display(description="")
    def change_link(self, obj):
        url = reverse("admin:stock_reorderlevel_change", args=[obj.pk])
        return format_html('<a href="{}">Change</a>', url)


class DepotWithReorderLevelsAdmin(DepotAdmin):
    """The depot page (core.admin.DepotAdmin) with its reorder levels: stock adds them,
    since core may not import stock."""

    inlines = [*DepotAdmin.inlines, ReorderLevelInline]


admin.site.unregister(Depot)
admin.site.register(Depot, DepotWithReorderLevelsAdmin)
