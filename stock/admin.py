from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Q, Sum
from django.urls import path, reverse

from core import dashboard
from core.admin_flow import CappedCountPaginator, confirm_and_post
from core.admin_mixins import DepotScopedAdminMixin, HistoryAdmin, ReadOnlyAdminMixin
from core.admin_services import ServiceSaveAdminMixin
from core.models import Role, User
from core.scoping import scope_queryset
from stock import services
from stock.forms import DistributionForm, ReceiptForm, StockCountForm
from stock.models import (
    Distribution,
    DistributionKind,
    Product,
    StockLevel,
    StockMovement,
    StockState,
)
from stock.selectors import stock_on_hand


class VehicleFilter(admin.SimpleListFilter):
    title = "vehicle"
    parameter_name = "vehicle"

    def lookups(self, request, model_admin):
        reps = scope_queryset(User.objects.filter(role=Role.SALES), request.user)
        return [(r.pk, f"{r.vehicle_no} ({r.username})") for r in reps.order_by("username")]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        # The URL gives text; "Show counts" sets the choice itself (an integer pk).
        value = str(self.value())
        if value not in {str(pk) for pk, _ in self.lookup_choices}:
            raise IncorrectLookupParameters(f"Unknown vehicle {value!r}.")
        return queryset.filter(sales_rep_id=value)


class LocationTypeFilter(admin.SimpleListFilter):
    title = "location"
    parameter_name = "location"

    def lookups(self, request, model_admin):
        return [("depot", "Depots"), ("vehicle", "Vehicles")]

    def queryset(self, request, queryset):
        if self.value() == "depot":
            return queryset.filter(sales_rep__isnull=True)
        if self.value() == "vehicle":
            return queryset.filter(sales_rep__isnull=False)
        return queryset


@admin.register(Product)
class ProductAdmin(ServiceSaveAdminMixin, HistoryAdmin):
    """Products are saved by stock.services (product_create, product_update)."""

    list_display = ("code", "name", "kind", "capacity_kg", "unit", "sort_order", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name")

    def get_readonly_fields(self, request, obj=None):
        # Codes and kinds are referenced by rates, stock and the API: fixed once created.
        return ("code", "kind") if obj is not None else ()

    def service_create(self, request, form, values):
        return services.product_create(actor=request.user, **values)

    def service_update(self, request, obj, form, values):
        return services.product_update(product=obj, actor=request.user, data=values)

    def has_delete_permission(self, request, obj=None):
        # Products are referenced by stock and sales history: deactivate, never delete.
        return False


@admin.register(StockLevel)
class StockLevelAdmin(DepotScopedAdminMixin, ReadOnlyAdminMixin, HistoryAdmin):
    list_display = ("location", "product", "state", "quantity", "updated_at")
    list_filter = ("depot", LocationTypeFilter, VehicleFilter, "product", "state")
    list_select_related = ("depot", "sales_rep", "product")
    search_fields = ("depot__code", "sales_rep__username", "sales_rep__vehicle_no")
    show_full_result_count = False
    list_per_page = 100

    @admin.display(description="Location", ordering="depot__code")
    def location(self, obj):
        return obj.location_label

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("receive/", wrap(self.receive_view), name="stock_stocklevel_receive"),
            path("count/", wrap(self.count_view), name="stock_stocklevel_count"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        cl = getattr(response, "context_data", {}).get("cl")
        if cl is not None:
            totals = cl.queryset.aggregate(
                full=Sum("quantity", filter=Q(state=StockState.FULL), default=0),
                empty=Sum("quantity", filter=Q(state=StockState.EMPTY), default=0),
            )
            response.context_data["stock_totals"] = totals
            response.context_data["can_receive"] = request.user.has_perm("stock.receive_stock")
            response.context_data["can_count"] = request.user.has_perm("stock.count_stock")
            response.context_data["can_distribute"] = request.user.has_perm(
                "stock.add_distribution"
            )
        return response

    def receive_view(self, request):
        def preview(form, movement):
            d = form.cleaned_data
            now = stock_on_hand(product=d["product"], depot=d["depot"])
            return [
                f"Receive {d['quantity']} full {d['product'].code} cylinders at depot "
                f"{d['depot'].code}.",
                f"Full {d['product'].code} at {d['depot'].code}: {now} -> {now + d['quantity']}.",
            ]

        return confirm_and_post(
            request,
            self,
            form_class=ReceiptForm,
            title="Receive stock at a depot",
            permission="stock.receive_stock",
            service=services.stock_receive,
            service_kwargs=lambda form: {**form.cleaned_data, "actor": request.user},
            preview=preview,
            success=lambda m: (
                f"Received {m.quantity} full {m.product.code} at depot {m.depot.code}.",
                reverse("admin:stock_stocklevel_changelist") + f"?depot__id__exact={m.depot_id}",
            ),
        )

    def count_view(self, request):
        def kwargs(form):
            d = form.cleaned_data
            return {
                "product": d["product"],
                "state": d["state"],
                "counted": d["counted"],
                "reason": d["reason"],
                "depot": d["depot"],
                "sales_rep": d["sales_rep"],
                "actor": request.user,
            }

        def preview(form, movement):
            d = form.cleaned_data
            place = (
                f"depot {d['depot'].code}"
                if d["depot"]
                else f"vehicle {d['sales_rep'].vehicle_no} ({d['sales_rep'].username})"
            )
            now = stock_on_hand(
                product=d["product"],
                state=d["state"],
                depot=d["depot"],
                sales_rep=d["sales_rep"],
            )
            difference = d["counted"] - now
            return [
                f"Stock count of {d['state'].lower()} {d['product'].code} on {place}.",
                f"The system holds {now}; you counted {d['counted']}: "
                + (f"adjustment of {difference:+d}." if difference else "no difference."),
                f"Reason: {d['reason']}",
            ]

        return confirm_and_post(
            request,
            self,
            form_class=StockCountForm,
            title="Record a stock count",
            permission="stock.count_stock",
            service=services.stock_adjust,
            service_kwargs=kwargs,
            preview=preview,
            success=lambda m: (
                f"Stock count recorded: adjustment of "
                f"{m.quantity if m.to_level_id else -m.quantity:+d} {m.product.code} "
                f"{m.state.lower()}.",
                reverse("admin:stock_stockmovement_changelist"),
            ),
        )


@admin.register(StockMovement)
class StockMovementAdmin(DepotScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "kind",
        "reference",
        "product",
        "state",
        "quantity",
        "source",
        "destination",
        "actor",
        "note",
    )
    list_filter = ("kind", "depot", VehicleFilter, "product", "state", "created_at")
    list_select_related = (
        "product",
        "actor",
        "from_level__depot",
        "from_level__sales_rep",
        "to_level__depot",
        "to_level__sales_rep",
    )
    search_fields = ("=reference", "note")
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 100

    def get_search_results(self, request, queryset, search_term):
        """A document's reference (TX-2026-000123, a delivery note) through its index;
        when no reference matches, the text is looked for in the notes."""
        term = search_term.replace("\x00", "").strip()  # PostgreSQL refuses NUL in text
        if not term:
            return queryset, False
        by_reference = queryset.filter(reference__in={term, term.upper()})
        if by_reference.exists():
            return by_reference, False
        return queryset.filter(note__icontains=term), False

    @admin.display(description="From")
    def source(self, obj):
        return obj.from_level.location_label if obj.from_level_id else "-"

    @admin.display(description="To")
    def destination(self, obj):
        return obj.to_level.location_label if obj.to_level_id else "-"


@admin.register(Distribution)
class DistributionAdmin(DepotScopedAdminMixin, HistoryAdmin):
    list_display = (
        "distribution_no",
        "created_at",
        "kind",
        "sales_rep",
        "vehicle",
        "depot",
        "product",
        "quantity",
        "created_by",
    )
    list_filter = ("kind", "depot", "product", "created_at")
    list_select_related = ("sales_rep", "depot", "product", "created_by")
    search_fields = ("=distribution_no", "sales_rep__username", "sales_rep__vehicle_no")
    show_full_result_count = False
    paginator = CappedCountPaginator
    readonly_fields = [f.name for f in Distribution._meta.fields]

    @admin.display(description="Vehicle")
    def vehicle(self, obj):
        return obj.sales_rep.vehicle_no

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


@dashboard.panel(order=50)
def products_panel(request):
    if not request.user.has_perm("stock.view_product"):
        return None
    products = Product.objects.filter(is_active=True)
    return {
        "title": "Products on sale",
        "headers": ["Code", "Name", "Kind"],
        "rows": [[p.code, p.name, p.get_kind_display()] for p in products],
        "link": "admin:stock_product_changelist",
        "link_text": "All products",
        "empty": "No active products.",
    }


@dashboard.panel(order=20)
def stock_panel(request):
    """Full and empty cylinders per depot (depot stock plus its vehicles)."""
    if not request.user.has_perm("stock.view_stocklevel"):
        return None
    rows = (
        scope_queryset(StockLevel.objects.all(), request.user)
        .values("depot__code")
        .annotate(
            depot_full=Sum("quantity", filter=Q(state="FULL", sales_rep__isnull=True)),
            depot_empty=Sum("quantity", filter=Q(state="EMPTY", sales_rep__isnull=True)),
            vehicle_full=Sum("quantity", filter=Q(state="FULL", sales_rep__isnull=False)),
            vehicle_empty=Sum("quantity", filter=Q(state="EMPTY", sales_rep__isnull=False)),
        )
        .order_by("depot__code")
    )
    return {
        "title": "Cylinders by depot",
        "headers": ["Depot", "Full", "Empty", "Full on vehicles", "Empty on vehicles"],
        "rows": [
            [
                r["depot__code"],
                r["depot_full"] or 0,
                r["depot_empty"] or 0,
                r["vehicle_full"] or 0,
                r["vehicle_empty"] or 0,
            ]
            for r in rows
        ],
        "link": "admin:stock_stocklevel_changelist",
        "link_text": "Stock levels",
        "empty": "No stock recorded yet.",
    }
