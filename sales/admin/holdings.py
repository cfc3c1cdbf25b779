"""Customers' cylinders: the cylinders-held list and the holding ledger (both read-only,
written by sales.services), and what the customer page adds: the cylinders and deposit
held per product, the last movement, a link to the ledger, and head office's "Adjust
cylinders held" (a count with its reason, through cylinders_held_adjust)."""

from decimal import Decimal

from django.contrib import admin
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from core.admin_flow import CappedCountPaginator, confirm_and_post
from core.admin_mixins import DepotScopedAdminMixin, ReadOnlyAdminMixin
from core.display import moment, money, quantity
from core.numbers import money_text
from sales import services
from sales.admin.list_cells import two_lines
from sales.admin.page_words import product_words
from sales.custody_selectors import customer_holdings
from sales.forms_custody import HoldingAdjustForm
from sales.models import Customer, CylinderHolding, HoldingEntry


def _when(value) -> str:
    return moment(value) if value else "-"


def ledger_url(customer: Customer) -> str:
    return f"{reverse('admin:sales_holdingentry_changelist')}?customer__id__exact={customer.pk}"


@admin.register(CylinderHolding)
class CylinderHoldingAdmin(ReadOnlyAdminMixin, DepotScopedAdminMixin, admin.ModelAdmin):
    """Cylinders held per customer and product, with the deposit paid on them and the
    last movement (the oldest first shows the cylinders that sat longest)."""

    # Fits 1366 px: customer, cylinders, deposit held, last movement (ledger link under).
    list_display = ("customer", "held", "deposit", "last_movement")
    list_display_links = ("customer",)
    list_filter = ("product", "customer__depot", "last_movement_at")
    search_fields = ("=customer__code", "customer__name")
    list_select_related = ("customer", "product")
    show_full_result_count = False
    paginator = CappedCountPaginator
    fields = ("customer", "product", "quantity", "deposit", "last_movement_at", "ledger")
    readonly_fields = fields

    @admin.display(description="Deposit held", ordering="deposit_held")
    def deposit(self, obj: CylinderHolding) -> str:
        return money_text(obj.deposit_held)

    @admin.display(description="Cylinders held", ordering="quantity")
    def held(self, obj: CylinderHolding) -> str:
        return f"{quantity(obj.quantity)} x {product_words(obj.product)}"

    @admin.display(description="Last movement", ordering="last_movement_at")
    def last_movement(self, obj: CylinderHolding) -> str:
        return format_html(
            '{}<br><span class="hsh-sub"><a href="{}">Movements</a></span>',
            _when(obj.last_movement_at),
            ledger_url(obj.customer),
        )

    @admin.display(description="Ledger")
    def ledger(self, obj: CylinderHolding) -> str:
        return format_html('<a href="{}">Movements</a>', ledger_url(obj.customer))

    def get_search_results(self, request, queryset, search_term):
        term = search_term.replace("\x00", "").strip()  # PostgreSQL refuses NUL in text
        return super().get_search_results(request, queryset, term) if term else (queryset, False)


@admin.register(HoldingEntry)
class HoldingEntryAdmin(ReadOnlyAdminMixin, DepotScopedAdminMixin, admin.ModelAdmin):
    """The holding ledger, newest first: every change of a customer's cylinders held and
    the deposit charged or refunded with it, and the document that made it."""

    # Fits 1366 px: when, customer, the change, the deposit; the document, where a
    # refund went and who on second lines.
    list_display = ("entry", "customer", "change", "deposit_shown")
    list_display_links = ("entry",)
    list_filter = ("kind", "refund_to", "product", "created_at")
    search_fields = ("=reference", "=customer__code")
    list_select_related = ("customer", "product", "sales_rep", "actor")
    show_full_result_count = False
    paginator = CappedCountPaginator
    fields = (
        "created_at",
        "customer",
        "product",
        "kind",
        "quantity",
        "deposit_shown",
        "refund_to",
        "reference",
        "note",
        "sales_rep",
        "actor",
    )
    readonly_fields = fields

    @admin.display(description="Deposit (+ charged, - refunded)", ordering="deposit")
    def deposit_shown(self, obj: HoldingEntry) -> str:
        went = f"refunded to {obj.get_refund_to_display().lower()}" if obj.refund_to else ""
        return two_lines(money(obj.deposit), went)

    @admin.display(description="When", ordering="created_at")
    def entry(self, obj: HoldingEntry) -> str:
        return two_lines(moment(obj.created_at), obj.reference)

    @admin.display(description="Change")
    def change(self, obj: HoldingEntry) -> str:
        who = obj.sales_rep.username if obj.sales_rep else obj.actor.username
        return two_lines(
            f"{obj.quantity:+d} {obj.product.code} ({obj.get_kind_display().lower()})",
            f"by {who}",
        )

    def get_search_results(self, request, queryset, search_term):
        term = search_term.replace("\x00", "").strip()
        return super().get_search_results(request, queryset, term) if term else (queryset, False)

    def lookup_allowed(self, lookup, value, request=None):
        return lookup == "customer__id__exact" or super().lookup_allowed(lookup, value, request)


class CustomerHoldingsMixin:
    """For CustomerAdmin: the "Cylinders held" panel (holdings_fieldsets) and the
    adjust screen (holdings_urls)."""

    HOLDING_FIELDS = ("cylinders_held", "cylinders_held_adjustable")

    def holdings_fieldsets(self, request) -> tuple:
        """The panel; with the adjust link for whoever may adjust (head office)."""
        may_adjust = request.user.has_perm("sales.adjust_holding")
        field = "cylinders_held_adjustable" if may_adjust else "cylinders_held"
        return (("Cylinders held", {"fields": (field,)}),)

    @admin.display(description="Cylinders held")
    def cylinders_held(self, obj: Customer) -> str:
        return self._holdings_panel(obj, adjustable=False)

    @admin.display(description="Cylinders held")
    def cylinders_held_adjustable(self, obj: Customer) -> str:
        return self._holdings_panel(obj, adjustable=True)

    def _holdings_panel(self, obj: Customer, *, adjustable: bool) -> str:
        holdings = list(customer_holdings(customer=obj))
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    product_words(h.product),
                    quantity(h.quantity),
                    money(h.deposit_held),
                    _when(h.last_movement_at),
                )
                for h in holdings
            ),
        )
        total = sum((h.deposit_held for h in holdings), Decimal("0"))
        table = format_html(
            "<table><thead><tr><th>Product</th><th>Cylinders</th><th>Deposit held</th>"
            "<th>Last movement</th></tr></thead><tbody>{}</tbody></table>"
            "<p>Deposit held in all: {}{}</p>",
            rows if holdings else mark_safe('<tr><td colspan="4">None.</td></tr>'),
            money(total),
            " (deposit exempt: they own their cylinders)" if obj.deposit_exempt else "",
        )
        links = format_html('<a href="{}">Holding ledger</a>', ledger_url(obj))
        if adjustable:
            links += format_html(
                ' &middot; <a href="{}">Adjust cylinders held</a>',
                reverse("admin:sales_customer_holdings_adjust", args=[obj.pk]),
            )
        return table + format_html("<p>{}</p>", links)

    def holdings_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/cylinders-held/",
                wrap(self.holdings_adjust_view),
                name="sales_customer_holdings_adjust",
            )
        ]

    def holdings_adjust_view(self, request, pk):
        customer = get_object_or_404(self.get_queryset(request), pk=pk)

        def preview(form, holding):
            # Inside the rolled-back posting: the entry it wrote says what changed.
            entry = HoldingEntry.objects.filter(holding=holding).order_by("-id").first()
            change = entry.quantity if entry is not None else 0
            lines = [
                f"{customer}: {holding.product.code} cylinders held "
                f"{holding.quantity - change} -> {holding.quantity}.",
                f"Deposit held on them: {money_text(holding.deposit_held)}"
                + (
                    f" (was {money_text(holding.deposit_held - entry.deposit)}): "
                    f"{money_text(-entry.deposit)} deposit forfeited on the "
                    f"{-change} missing, kept for the cylinders lost."
                    if entry is not None and entry.deposit < 0
                    else "."
                ),
                f"Reason: {form.cleaned_data['reason']}",
            ]
            return lines

        return confirm_and_post(
            request,
            self,
            form_class=HoldingAdjustForm,
            title=f"Adjust cylinders held by {customer}",
            permission="sales.adjust_holding",
            service=services.cylinders_held_adjust,
            service_kwargs=lambda form: {
                "customer": customer,
                "product": form.cleaned_data["product"],
                "counted": form.cleaned_data["counted"],
                "reason": form.cleaned_data["reason"],
                "actor": request.user,
            },
            preview=preview,
            preview_in_dry_run=True,
            success=lambda holding: (
                f"{customer.code}: {holding.quantity} {holding.product.code} cylinders held.",
                reverse("admin:sales_customer_change", args=[customer.pk]),
            ),
        )
