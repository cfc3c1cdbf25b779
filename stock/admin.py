"""Stock screens: products, stock levels (with the receive, count, dispatch and write-off
forms), the movement ledger, and the dashboard's stock panels. Distributions, transfers
and count sheets have their own modules, imported at the end to register them."""

from django.contrib import admin
from django.db.models import Q, Sum
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html

from core import dashboard
from core.admin_flow import CappedCountPaginator, confirm_and_post
from core.admin_mixins import (
    DepotScopedAdminMixin,
    HistoryAdmin,
    ReadOnlyAdminMixin,
    ShownReadOnlyAdminMixin,
)
from core.admin_services import ServiceSaveAdminMixin
from core.display import moment, money, quantity
from core.numbers import PlainDecimalField, money_text
from core.scoping import ALL, visible_depot_ids
from stock import admin_custody, services
from stock.admin_filters import LocationTypeFilter, MovementDepotFilter, VehicleFilter
from stock.forms import ReceiptForm, StockCountForm
from stock.models import Product, StockLevel, StockMovement, StockState
from stock.selectors import depot_movements_filter, stock_on_hand

# Object tools of the stock levels' list: context name -> the permission that shows it.
CUSTODY_TOOLS = {
    "can_receive": "stock.receive_stock",
    "can_count": "stock.count_stock",
    "can_distribute": "stock.add_distribution",
    "can_dispatch": "stock.dispatch_empties",
    "can_write_off": "stock.write_off_stock",
    "can_transfer": "stock.transfer_stock",
}


@admin.register(Product)
class ProductAdmin(ShownReadOnlyAdminMixin, ServiceSaveAdminMixin, HistoryAdmin):
    """Products are saved by stock.services (product_create, product_update)."""

    shown_readonly = {"list_price": "list_price_shown"}  # as money where not editable

    list_display = (
        "code",
        "name",
        "kind",
        "capacity_kg",
        "unit",
        "list_price_shown",
        "sort_order",
        "is_active",
    )
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name")
    fields = (
        "code",
        "name",
        "kind",
        "capacity_kg",
        "unit",
        "list_price",
        "sort_order",
        "is_active",
    )

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "list_price":  # a price as typed: 1500.00, no exponent or grouping
            kwargs["form_class"] = PlainDecimalField
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description="List price", ordering="list_price")
    def list_price_shown(self, obj):
        return "-" if obj.list_price is None else money_text(obj.list_price)

    def get_readonly_fields(self, request, obj=None):
        # Codes and kinds are referenced by rates, stock and the API: fixed once created.
        return self.with_shown_readonly(request, obj, ("code", "kind") if obj is not None else ())

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

    def history_name(self, obj) -> str:
        return f"{StockState(obj.state).label.lower()} {obj.product.code} at {obj.location_label}"

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
            path("dispatch/", wrap(self.dispatch_view), name="stock_stocklevel_dispatch"),
            path("write-off/", wrap(self.write_off_view), name="stock_stocklevel_write_off"),
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
            for name, permission in CUSTODY_TOOLS.items():
                response.context_data[name] = request.user.has_perm(permission)
        return response

    def dispatch_view(self, request):
        return admin_custody.dispatch_view(self, request)

    def write_off_view(self, request):
        return admin_custody.write_off_view(self, request)

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


# The far end of a movement that enters or leaves the books.
OUTSIDE_FROM = {
    "RECEIPT": "supplier",
    "ADJUSTMENT": "found in a count",
    "CUSTOMER_RETURN": "customer",
    "VOID": "customer (sale voided)",
}
OUTSIDE_TO = {
    "PLANT_DISPATCH": "filling plant",
    "SALE": "customer",
    "ADJUSTMENT": "missing in a count",
    "WRITE_OFF": "written off",
}


@admin.register(StockMovement)
class StockMovementAdmin(DepotScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("when", "movement", "document", "cylinders", "route", "by")
    list_filter = ("kind", MovementDepotFilter, VehicleFilter, "product", "state", "created_at")
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
    # The page of one movement, in words (a plant dispatch, a receipt, a write-off...).
    fields = ("movement", "when", "cylinders", "route", "document", "depot", "by")
    readonly_fields = fields

    def change_view(self, request, object_id, form_url="", extra_context=None):
        movement = self.get_object(request, object_id)
        if movement is not None:  # else the admin says it does not exist
            words = f"{movement.get_kind_display()}: {self.cylinders(movement)}"
            extra_context = {**(extra_context or {}), "subtitle": words}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_queryset(self, request):
        """A manager's depots' movements, the transfers into them included (a transfer is
        recorded at the sending depot, with its to_level at the receiving one)."""
        queryset = super(DepotScopedAdminMixin, self).get_queryset(request)
        depot_ids = visible_depot_ids(request.user)
        if depot_ids is ALL:
            return queryset
        return queryset.filter(depot_movements_filter(depot_ids))

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

    @admin.display(description="Document", ordering="reference")
    def document(self, obj):
        """The reference, linked to its document's page where it has one (TRF-, CNT-,
        DST-, TX-...); a delivery note or an adjustment's is plain text."""
        url = None
        if obj.doc_type and obj.doc_id is not None:
            app_label, _, model_name = obj.doc_type.partition(".")
            try:
                url = reverse(f"admin:{app_label}_{model_name}_change", args=[obj.doc_id])
            except NoReverseMatch:
                url = None
        if url is None or not obj.reference:
            return obj.reference or "-"
        return format_html('<a href="{}">{}</a>', url, obj.reference)

    @admin.display(description="Movement", ordering="kind")
    def movement(self, obj):
        """The kind, and its note (a write-off's cause, a count's reason) on a second line."""
        if not obj.note:
            return obj.get_kind_display()
        note = obj.note if len(obj.note) <= 80 else obj.note[:79] + "…"
        return format_html("{}<br><small>{}</small>", obj.get_kind_display(), note)

    @admin.display(description="When", ordering="created_at")
    def when(self, obj):
        return moment(obj.created_at)

    @admin.display(description="Cylinders", ordering="quantity")
    def cylinders(self, obj):
        state = StockState(obj.state).label.lower()
        return f"{quantity(obj.quantity)} {obj.product.code} {state}"

    @admin.display(description="From → to")
    def route(self, obj):
        """Where the cylinders went, the outside end named ("depot SOUTH → filling
        plant", "supplier → depot EAST")."""
        source = self.source(obj) if obj.from_level_id else OUTSIDE_FROM.get(obj.kind, "-")
        to = self.destination(obj) if obj.to_level_id else OUTSIDE_TO.get(obj.kind, "-")
        return f"{source} → {to}"

    @admin.display(description="By", ordering="actor__username")
    def by(self, obj):
        return obj.actor.username

    @admin.display(description="From")
    def source(self, obj):
        return obj.from_level.location_label if obj.from_level_id else "-"

    @admin.display(description="To")
    def destination(self, obj):
        return obj.to_level.location_label if obj.to_level_id else "-"


@dashboard.panel(order=50)
def products_panel(request):
    if not request.user.has_perm("stock.view_product"):
        return None
    products = Product.objects.filter(is_active=True)
    return {
        "title": "Products on sale",
        "headers": ["Product", "Kind", "List price"],
        "rows": [
            [p.name, p.get_kind_display(), "-" if p.list_price is None else money(p.list_price)]
            for p in products.order_by("name")
        ],
        "link": "admin:stock_product_changelist",
        "link_text": "All products",
        "empty": "No active products.",
    }


# Distributions, transfers and count sheets register themselves there.
from stock import admin_distributions as admin_distributions  # noqa: E402
from stock import admin_documents as admin_documents  # noqa: E402
from stock import admin_reorder as admin_reorder  # noqa: E402
