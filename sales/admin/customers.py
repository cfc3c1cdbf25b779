"""Customers (balance, rates in force, unpaid sales, set rates) and rate history."""

from decimal import Decimal

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from reversion.admin import VersionAdmin

from core.admin_flow import CappedCountPaginator, confirm_and_post
from core.admin_mixins import (
    DepotScopedAdminMixin,
    HistoryAdmin,
    ReadOnlyAdminMixin,
    RecoverableAdminMixin,
    ShownReadOnlyAdminMixin,
)
from core.admin_services import ServiceSaveAdminMixin
from core.display import amount, moment, money
from sales import services
from sales.admin.customer_page import account_context, rates_panel, recent_panel, unpaid_panel
from sales.admin.holdings import CustomerHoldingsMixin
from sales.admin.list_cells import two_lines
from sales.admin.page_words import rate_label
from sales.forms import SetRatesForm
from sales.models import Customer, Rate
from sales.selectors import customers_with_account, rate_version_in_force


@admin.register(Customer)
class CustomerAdmin(
    ShownReadOnlyAdminMixin,
    CustomerHoldingsMixin,
    ServiceSaveAdminMixin,
    DepotScopedAdminMixin,
    RecoverableAdminMixin,
    HistoryAdmin,
    VersionAdmin,
):
    """Customers are saved by sales.services (customer_create, customer_update): a changed
    credit limit or payment type is on the audit log with who changed it."""

    # Fits 1366 px: the customer (depot and phone under), terms, balance, active.
    list_display = ("customer", "terms", "balance_due", "is_active")
    list_display_links = ("customer",)
    list_filter = ("depot", "payment_type", "is_active")
    search_fields = ("code", "name", "phone", "email")
    list_select_related = ("depot",)
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("code", "name", "address", "phone", "depot", "is_active")}),
        ("Terms", {"fields": ("payment_type", "credit_limit", "deposit_exempt")}),
        ("Documents by e-mail", {"fields": ("email", "email_invoices")}),
        ("Meter", {"fields": ("last_meter_reading",)}),
    )
    account_fieldsets = (
        ("Rates in force", {"fields": ("current_rates",)}),
        ("Unpaid credit sales", {"fields": ("unpaid_sales",)}),
        ("Latest documents", {"fields": ("recent_documents",)}),
    )
    # Shown as words and grouped numbers where the user cannot edit them.
    shown_readonly = {
        "credit_limit": "credit_limit_shown",
        "last_meter_reading": "meter_reading_shown",
    }

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.fieldsets
        account = self.account_fieldsets
        if not request.user.has_perm("sales.add_rate"):  # no "Set new rates" link then
            account = (("Rates in force", {"fields": ("current_rates_shown",)}), *account[1:])
        fieldsets = self.fieldsets + account + self.holdings_fieldsets(request)
        return self.shown_fieldsets(request, obj, fieldsets)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # The meter moves only with posted and voided meter sales.
        fixed = (
            "code",
            "last_meter_reading",
            "current_rates",
            "current_rates_shown",
            "unpaid_sales",
            "recent_documents",
            *self.HOLDING_FIELDS,
        )
        return self.with_shown_readonly(request, obj, fixed)

    def service_create(self, request, form, values):
        return services.customer_create(actor=request.user, **values)

    def service_update(self, request, obj, form, values):
        return services.customer_update(customer=obj, actor=request.user, data=values)

    def get_queryset(self, request):
        # The balance column comes with the page's one query (the API's selector).
        return customers_with_account(super().get_queryset(request))

    @admin.display(description="Customer", ordering="code")
    def customer(self, obj):
        return two_lines(
            f"{obj.code} {obj.name}", " · ".join(filter(None, [obj.depot.code, obj.phone]))
        )

    @admin.display(description="Terms", ordering="payment_type")
    def terms(self, obj):
        if obj.payment_type != "CREDIT":
            return obj.get_payment_type_display()
        limit = "no limit" if obj.credit_limit is None else f"limit {money(obj.credit_limit)}"
        return two_lines(obj.get_payment_type_display(), limit)

    @admin.display(description="Credit limit")
    def credit_limit_shown(self, obj):
        return "No limit" if obj.credit_limit is None else money(obj.credit_limit)

    @admin.display(description="Last meter reading")
    def meter_reading_shown(self, obj):
        return "None yet" if obj.last_meter_reading is None else amount(obj.last_meter_reading)

    @admin.display(description="Balance due", ordering="balance_value")
    def balance_due(self, obj):
        return money(Decimal(obj.balance_value))

    @admin.display(description="In force now")
    def current_rates(self, obj):
        return rates_panel(obj)

    @admin.display(description="In force now")
    def current_rates_shown(self, obj):
        return rates_panel(obj, may_set=False)

    @admin.display(description="Oldest first")
    def unpaid_sales(self, obj):
        return unpaid_panel(obj)

    @admin.display(description="The latest 10 of each")
    def recent_documents(self, obj):
        return recent_panel(obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        customer = self.get_object(request, unquote(object_id))
        if customer is not None:  # else the admin says it does not exist
            extra_context["account"] = account_context(customer)
        return super().change_view(request, object_id, form_url, extra_context)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (obj.transactions.exists() or obj.payments.exists()):
            return False  # a customer with history is closed (inactive), never deleted
        return super().has_delete_permission(request, obj)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/rates/", wrap(self.rates_view), name="sales_customer_rates"),
            *self.holdings_urls(),
            *super().get_urls(),
        ]

    def rates_view(self, request, pk):
        customer = get_object_or_404(self.get_queryset(request), pk=pk)

        def preview(form, versions):
            lines = [f"New rates for {customer}:"]
            for version in versions:
                before = rate_version_in_force(
                    customer=customer,
                    product=version.product,
                    at=version.effective_from - timezone.timedelta(microseconds=1),
                )
                old = "none" if before is None or before.rate is None else money(before.rate)
                name = f"{rate_label(version.product)} ({version.product.code})"
                lines.append(f"{name}: {old} -> {money(version.rate)}")
            lines.append(f"In force from {moment(versions[0].effective_from)}")
            return lines

        return confirm_and_post(
            request,
            self,
            form_class=SetRatesForm,
            form_kwargs={"customer": customer},
            title=f"Set rates for {customer}",
            permission="sales.add_rate",
            service=services.customer_rates_set,
            service_kwargs=lambda form: {
                "customer": customer,
                "rates": form.changes(),
                "actor": request.user,
                "effective_from": form.cleaned_data["effective_from"],
            },
            preview=preview,
            preview_in_dry_run=True,
            success=lambda versions: (
                f"{len(versions)} rate(s) set for {customer.code}.",
                reverse("admin:sales_customer_change", args=[customer.pk]),
            ),
        )


@admin.register(Rate)
class RateAdmin(ShownReadOnlyAdminMixin, ReadOnlyAdminMixin, DepotScopedAdminMixin, HistoryAdmin):
    """Every version of every rate, newest first. Versions are never edited."""

    shown_readonly = {"rate": "amount"}  # LKR 15,586.00 on the (view-only) page

    # Fits 1366 px: customer, the rate by what it is for, amount, from when; who set it
    # (and the import it came in) under.
    list_display = ("customer", "rate_for", "amount", "effective")
    list_display_links = ("rate_for",)
    list_filter = ("product", "customer__depot", "effective_from")
    search_fields = ("=customer__code", "customer__name")
    list_select_related = ("customer", "product", "created_by", "batch")
    show_full_result_count = False
    paginator = CappedCountPaginator
    ordering = ("-id",)

    @admin.display(description="Rate", ordering="product__code")
    def rate_for(self, obj):
        return rate_label(obj.product)

    @admin.display(description="Amount", ordering="rate")
    def amount(self, obj):
        return "No rate" if obj.rate is None else money(obj.rate)

    @admin.display(description="From", ordering="effective_from")
    def effective(self, obj):
        batch = f" (import {obj.batch_id})" if obj.batch_id else ""
        return two_lines(moment(obj.effective_from), f"set by {obj.created_by}{batch}")
