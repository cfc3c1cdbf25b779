"""Read-only inlines shared by the sales screens."""

from django.contrib import admin

from sales.models import MeterSale, PaymentAllocation, TransactionLine


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class LineInline(ReadOnlyInline):
    model = TransactionLine
    fields = (
        "product",
        "quantity",
        "empties_returned",
        "rate",
        "subtotal",
        "deposit_rate",
        "deposit",
        "deposit_refund",
    )
    readonly_fields = fields


class MeterInline(ReadOnlyInline):
    model = MeterSale
    fields = ("product", "last_reading", "latest_reading", "quantity", "rate", "subtotal")
    readonly_fields = fields


class AllocationInline(ReadOnlyInline):
    model = PaymentAllocation
    fields = ("payment", "transaction", "amount", "created_at")
    readonly_fields = fields
