"""The project's URLs plus /baseline-admin/: Django's default ModelAdmin for the same
models and columns (full COUNT, related objects fetched per row), the changelist
benchmark's baseline."""

from django.contrib import admin
from django.urls import path

from core.models import AuditLog
from hsh_admin.urls import urlpatterns as project_urls
from sales.models import Transaction
from stock.models import StockMovement

baseline = admin.AdminSite(name="baseline")


class DefaultTransactionAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "created_at",
        "customer",
        "sales_rep",
        "depot",
        "payment_type",
        "total_amount",
        "amount_paid",
        "status",
    )
    list_filter = ("status", "payment_type", "depot", "created_at")
    search_fields = ("=number", "=customer__code", "customer__name")


class DefaultMovementAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "kind",
        "reference",
        "product",
        "state",
        "quantity",
        "from_level",
        "to_level",
        "actor",
        "note",
    )
    list_filter = ("kind", "depot", "product", "state", "created_at")
    search_fields = ("=reference", "note")
    list_per_page = 100


class DefaultAuditLogAdmin(admin.ModelAdmin):
    list_display = ("seq", "created_at", "actor", "action", "object_type", "object_id")
    list_filter = ("action", "object_type", "depot", "created_at")
    search_fields = ("=object_id",)
    list_per_page = 100


baseline.register(Transaction, DefaultTransactionAdmin)
baseline.register(StockMovement, DefaultMovementAdmin)
baseline.register(AuditLog, DefaultAuditLogAdmin)

urlpatterns = [path("baseline-admin/", baseline.urls), *project_urls]
