from django.contrib import admin

from core import dashboard
from stock.models import Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "capacity_kg", "unit", "sort_order", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name")

    def get_readonly_fields(self, request, obj=None):
        # Codes and kinds are referenced by rates, stock and the API: fixed once created.
        return ("code", "kind") if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        # Products are referenced by stock and sales history: deactivate, never delete.
        return False


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
