from decimal import Decimal

from django.contrib import admin, messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, Sum
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV, XLSX
from import_export.tmp_storages import CacheStorage
from reversion.admin import VersionAdmin

from core import dashboard
from core.admin_flow import CappedCountPaginator, confirm_and_post
from core.admin_mixins import DepotScopedAdminMixin, HistoryAdmin, RecoverableAdminMixin
from core.models import AuditLog
from core.scoping import scope_queryset
from sales import services
from sales.forms import PaymentForm, PaymentReverseForm, SaleForm, SetRatesForm, VoidForm
from sales.models import (
    Customer,
    MeterSale,
    Payment,
    PaymentAllocation,
    PaymentType,
    Rate,
    RateImport,
    RateTable,
    Transaction,
    TransactionLine,
    TransactionStatus,
)
from sales.resources import RATE_COLUMNS, RateTableResource, import_problems, rate_attribute
from sales.selectors import (
    current_rate_subquery,
    customer_balance,
    customers_with_account,
    rate_version_in_force,
    unpaid_transactions,
)
from stock.models import Product


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- Customers and rates -------------------------------------------------------------


@admin.register(Customer)
class CustomerAdmin(DepotScopedAdminMixin, RecoverableAdminMixin, HistoryAdmin, VersionAdmin):
    list_display = (
        "code",
        "name",
        "depot",
        "payment_type",
        "credit_limit",
        "balance_due",
        "is_active",
    )
    list_filter = ("depot", "payment_type", "is_active")
    search_fields = ("code", "name", "phone")
    list_select_related = ("depot",)
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("code", "name", "address", "phone", "depot", "is_active")}),
        ("Terms", {"fields": ("payment_type", "credit_limit")}),
        ("Meter", {"fields": ("last_meter_reading",)}),
    )
    account_fieldsets = (
        ("Rates in force", {"fields": ("current_rates",)}),
        ("Account", {"fields": ("balance", "unpaid_sales")}),
    )

    def get_fieldsets(self, request, obj=None):
        return self.fieldsets + (self.account_fieldsets if obj is not None else ())

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # The meter moves only with posted and voided meter sales.
        return ("code", "last_meter_reading", "current_rates", "balance", "unpaid_sales")

    def get_queryset(self, request):
        # The balance column comes with the page's one query (the API's selector).
        return customers_with_account(super().get_queryset(request))

    @admin.display(description="Balance due", ordering="balance_value")
    def balance_due(self, obj):
        return f"{Decimal(obj.balance_value):.2f}"

    @admin.display(description="Balance")
    def balance(self, obj):
        value = customer_balance(customer=obj)
        limit = f" of a {obj.credit_limit} limit" if obj.credit_limit is not None else ""
        if value < 0:
            return f"{-value} paid in advance"
        return f"{value} owed{limit}"

    @admin.display(description="Current rates")
    def current_rates(self, obj):
        rows = []
        for product in Product.objects.filter(is_active=True):
            version = rate_version_in_force(customer=obj, product=product)
            rows.append(
                (
                    product.code,
                    "no rate" if version is None or version.rate is None else version.rate,
                    timezone.localtime(version.effective_from).strftime("%Y-%m-%d %H:%M")
                    if version
                    else "",
                )
            )
        links = format_html(
            '<p><a href="{}">Set new rates</a> &middot; <a href="{}?customer__id__exact={}">'
            "Rate history</a></p>",
            reverse("admin:sales_customer_rates", args=[obj.pk]),
            reverse("admin:sales_rate_changelist"),
            obj.pk,
        )
        table = format_html(
            "<table><thead><tr><th>Product</th><th>Rate</th><th>In force since</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )
        return table + links

    @admin.display(description="Unpaid credit sales (oldest first)")
    def unpaid_sales(self, obj):
        sales = list(unpaid_transactions(customer=obj)[:20])
        if not sales:
            return "None."
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:sales_transaction_change", args=[s.pk]),
                    s.number,
                    timezone.localtime(s.created_at).strftime("%Y-%m-%d"),
                    s.total_amount,
                    s.total_amount - s.amount_paid,
                )
                for s in sales
            ),
        )
        return format_html(
            "<table><thead><tr><th>Sale</th><th>Date</th><th>Total</th><th>Due</th></tr>"
            '</thead><tbody>{}</tbody></table><p><a href="{}?customer__id__exact={}&amp;'
            'unpaid=1">All unpaid sales</a></p>',
            rows,
            reverse("admin:sales_transaction_changelist"),
            obj.pk,
        )

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (obj.transactions.exists() or obj.payments.exists()):
            return False  # a customer with history is closed (inactive), never deleted
        return super().has_delete_permission(request, obj)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/rates/", wrap(self.rates_view), name="sales_customer_rates"),
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
                old = "none" if before is None or before.rate is None else before.rate
                lines.append(f"{version.product.code}: {old} -> {version.rate}")
            lines.append(
                "In force from "
                + timezone.localtime(versions[0].effective_from).strftime("%Y-%m-%d %H:%M")
            )
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
class RateAdmin(DepotScopedAdminMixin, HistoryAdmin):
    """Every version of every rate, newest first. Versions are never edited."""

    list_display = (
        "customer",
        "product",
        "rate",
        "effective_from",
        "created_by",
        "created_at",
        "batch",
    )
    list_filter = ("product", "customer__depot", "effective_from")
    search_fields = ("=customer__code", "customer__name")
    list_select_related = ("customer", "product", "created_by", "batch")
    show_full_result_count = False
    paginator = CappedCountPaginator
    ordering = ("-id",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RateTable)
class RateTableAdmin(DepotScopedAdminMixin, ImportExportMixin, admin.ModelAdmin):
    """The familiar wide rate table: one row per customer, imported and exported whole."""

    resource_classes = [RateTableResource]
    # Refusals as plain sentences: import-export's own page prints tracebacks.
    import_template_name = "admin/sales/ratetable/import.html"
    import_formats = [CSV, XLSX]
    export_formats = [CSV, XLSX]
    list_display = ("customer_link", "name", *(rate_attribute(c) for _, c in RATE_COLUMNS))
    list_display_links = None
    list_filter = ("depot", "payment_type")
    search_fields = ("code", "name")
    show_full_result_count = False
    actions = None

    def get_queryset(self, request):
        products = {p.code: p for p in Product.objects.all()}
        now = timezone.now()
        return (
            super()
            .get_queryset(request)
            .annotate(
                **{
                    rate_attribute(code): current_rate_subquery(products[code], now)
                    for _, code in RATE_COLUMNS
                    if code in products
                }
            )
        )

    def get_export_queryset(self, request):
        return RateTableResource().with_current_rates(super().get_export_queryset(request))

    def process_import(self, request, **kwargs):
        """import-export's confirm step, with the uploaded file claimed once: it waits in
        the shared cache between preview and confirm (IMPORT_EXPORT_TMP_STORAGE_CLASS),
        and only the request that removes it imports it. A second click, a re-sent page,
        a tampered or expired upload says so instead of failing."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        confirm_form = self.create_confirm_form(request)
        if not confirm_form.is_valid():
            return super().process_import(request, **kwargs)  # its page shows the errors
        key = CacheStorage.CACHE_PREFIX + confirm_form.cleaned_data["import_file_name"]
        data = cache.get(key)
        if data is None or not cache.delete(key):
            messages.error(
                request,
                "This rate table was already imported, or its preview is too old: nothing "
                "was imported now. Check Sales > Rate imports, or upload the file again.",
            )
            return redirect("admin:sales_ratetable_import")
        input_format = self.get_import_formats()[int(confirm_form.cleaned_data["format"])](
            encoding=self.from_encoding
        )
        dataset = input_format.create_dataset(data)
        result = self.process_dataset(dataset, confirm_form, request, **kwargs)
        return self.process_result(result, request)

    def process_result(self, result, request):
        # The import after the preview can still be refused (a rate changed meanwhile,
        # a database failure): it was rolled back whole, so say that, not "finished".
        if result.has_errors() or result.has_validation_errors():
            for problem in import_problems(result):
                messages.error(request, problem)
            return redirect("admin:sales_ratetable_import")
        return super().process_result(result, request)

    def add_data_read_fail_error_to_form(self, form, e):
        form.add_error(
            "import_file",
            "This file could not be read in the format chosen: choose CSV or XLSX to match "
            "the file (a CSV must be saved as UTF-8).",
        )

    @admin.display(description="Account number", ordering="code")
    def customer_link(self, obj):
        url = reverse("admin:sales_customer_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.code)

    def has_import_permission(self, request):
        return request.user.has_perm("sales.add_rate")

    def has_export_permission(self, request):
        return request.user.has_perm("sales.view_rate")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("sales.view_rate")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _rate_column(code, heading):
    def column(obj):
        value = getattr(obj, rate_attribute(code), None)
        return "-" if value is None else f"{Decimal(value):.2f}"

    column.short_description = heading
    column.admin_order_field = rate_attribute(code)
    return column


for _heading, _code in RATE_COLUMNS:
    setattr(RateTableAdmin, rate_attribute(_code), staticmethod(_rate_column(_code, _heading)))


class ImportedRateInline(ReadOnlyInline):
    model = Rate
    fields = ("customer", "product", "rate", "effective_from")
    readonly_fields = fields
    show_change_link = False


@admin.register(RateImport)
class RateImportAdmin(admin.ModelAdmin):
    list_display = ("__str__", "created_by", "created_at", "rate_count", "status")
    list_select_related = ("created_by", "undo_of")
    readonly_fields = ("file_name", "created_by", "created_at", "undo_of")
    inlines = [ImportedRateInline]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(n_rates=Count("rates"))

    @admin.display(description="Rates changed")
    def rate_count(self, obj):
        return obj.n_rates

    @admin.display(description="Status")
    def status(self, obj):
        if obj.undo_of_id:
            return f"undid import #{obj.undo_of_id}"
        return "undone" if hasattr(obj, "undone_by") else "in force"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/undo/", wrap(self.undo_view), name="sales_rateimport_undo"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_undo": request.user.has_perm("sales.add_rate"),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def undo_view(self, request, pk):
        if not request.user.has_perm("sales.add_rate"):
            raise PermissionDenied
        batch = get_object_or_404(RateImport, pk=pk)
        if request.method == "POST":
            try:
                undo = services.rate_import_undo(batch=batch, actor=request.user)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                return redirect("admin:sales_rateimport_change", batch.pk)
            messages.success(
                request,
                f"Import #{batch.pk} undone: {undo.rates.count()} rate(s) restored by "
                f"new versions (#{undo.pk}).",
            )
            return redirect("admin:sales_rateimport_change", undo.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Undo {batch}?",
            "batch": batch,
            "rates": batch.rates.select_related("customer", "product"),
        }
        return TemplateResponse(request, "admin/sales/rateimport/undo.html", context)


# --- Sales ---------------------------------------------------------------------------


class LineInline(ReadOnlyInline):
    model = TransactionLine
    fields = ("product", "quantity", "empties_returned", "rate", "subtotal")
    readonly_fields = fields


class MeterInline(ReadOnlyInline):
    model = MeterSale
    fields = ("product", "last_reading", "latest_reading", "quantity", "rate", "subtotal")
    readonly_fields = fields


class AllocationInline(ReadOnlyInline):
    model = PaymentAllocation
    fields = ("payment", "transaction", "amount", "created_at")
    readonly_fields = fields


class UnpaidFilter(admin.SimpleListFilter):
    title = "payment"
    parameter_name = "unpaid"

    def lookups(self, request, model_admin):
        return [("1", "Unpaid credit sales")]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(
                status=TransactionStatus.POSTED, payment_type=PaymentType.CREDIT, is_paid=False
            )
        return queryset


@admin.register(Transaction)
class TransactionAdmin(DepotScopedAdminMixin, HistoryAdmin):
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
    list_filter = ("status", "payment_type", UnpaidFilter, "depot", "created_at")
    search_fields = ("=number", "=customer__code", "customer__name")
    list_select_related = ("customer", "sales_rep", "depot")
    show_full_result_count = False
    paginator = CappedCountPaginator
    raw_id_fields = ("customer",)
    inlines = [LineInline, MeterInline, AllocationInline]
    actions = ["void_selected"]
    exclude = ("idempotency_key", "request_fingerprint")

    def get_search_results(self, request, queryset, search_term):
        """A sale's number, or a customer's code or part of their name. Each through an
        index: the customers are looked up first (a small table), then their sales."""
        term = search_term.replace("\x00", "").strip()  # PostgreSQL refuses NUL in text
        if not term:
            return queryset, False
        customers = Customer.objects.filter(Q(code__iexact=term) | Q(name__icontains=term))
        ids = list(customers.values_list("pk", flat=True))
        return queryset.filter(Q(number=term.upper()) | Q(customer_id__in=ids)), False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Transaction._meta.fields if f.name not in self.exclude]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/void/", wrap(self.void_view), name="sales_transaction_void"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_void": request.user.has_perm("sales.void_transaction"),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Void the selected sales…", permissions=["void"])
    def void_selected(self, request, queryset):
        if queryset.count() == 1:
            return redirect("admin:sales_transaction_void", queryset.get().pk)
        if "reason" in request.POST:
            reason = request.POST["reason"]
            done, refused = [], []
            # Newest first: an older meter sale can be voided once the later one is.
            for sale in queryset.order_by("-id"):
                try:
                    services.sale_void(transaction=sale, actor=request.user, reason=reason)
                    done.append(sale.number)
                except (ValidationError, PermissionDenied) as exc:
                    refused.append(
                        f"{sale.number}: {' '.join(getattr(exc, 'messages', [str(exc)]))}"
                    )
            if done:
                messages.success(request, f"Voided {', '.join(done)}.")
            for line in refused:
                messages.error(request, line)
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Void these sales?",
            "sales": queryset.select_related("customer"),
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/sales/transaction/void_selected.html", context)

    def has_void_permission(self, request):
        return request.user.has_perm("sales.void_transaction")

    def void_view(self, request, pk):
        sale = get_object_or_404(self.get_queryset(request), pk=pk)

        def preview(form, voided):
            lines = [f"Void {sale.number} of {sale.customer} ({sale.total_amount})."]
            for line in sale.lines.select_related("product"):
                lines.append(
                    f"{line.quantity} full {line.product.code} back on the vehicle; "
                    f"{line.empties_returned} empties off it."
                )
            meter = MeterSale.objects.filter(transaction=sale).first()
            if meter:
                lines.append(
                    f"Meter reading back from {meter.latest_reading} to {meter.last_reading}."
                )
            lines.append(f"Reason: {form.cleaned_data['reason']}")
            return lines

        return confirm_and_post(
            request,
            self,
            form_class=VoidForm,
            title=f"Void {sale.number}",
            permission="sales.void_transaction",
            service=services.sale_void,
            service_kwargs=lambda form: {
                "transaction": sale,
                "actor": request.user,
                "reason": form.cleaned_data["reason"],
            },
            preview=preview,
            success=lambda voided: (
                f"{voided.number} is void.",
                reverse("admin:sales_transaction_change", args=[voided.pk]),
            ),
        )

    def add_view(self, request, form_url="", extra_context=None):
        def preview(form, sale):
            lines = [
                f"Sale to {sale.customer} by {sale.sales_rep.username} "
                f"(vehicle {sale.sales_rep.vehicle_no})."
            ]
            for line in sale.lines.select_related("product"):
                lines.append(
                    f"{line.quantity} x {line.product.code} at {line.rate} = {line.subtotal}"
                    f" ({line.empties_returned} empties received)"
                )
            meter = MeterSale.objects.filter(transaction=sale).first()
            if meter:
                lines.append(
                    f"Meter {meter.last_reading} -> {meter.latest_reading}: {meter.quantity} "
                    f"at {meter.rate} = {meter.subtotal}"
                )
            lines.append(f"Total: {sale.total_amount}")
            if sale.payment_type == PaymentType.CASH:
                lines.append("Cash sale: paid now.")
            else:
                after = customer_balance(customer=sale.customer)
                limit = sale.customer.credit_limit
                lines.append(
                    f"Credit sale: balance {after - sale.total_amount} -> {after}"
                    + (f" (limit {limit})." if limit is not None else ".")
                )
            return lines

        def kwargs(form):
            return {
                "customer": form.cleaned_data["customer"],
                "sales_rep": form.cleaned_data["sales_rep"],
                "actor": request.user,
                "lines": form.lines(),
                "meter_reading": form.cleaned_data.get("meter_reading"),
            }

        return confirm_and_post(
            request,
            self,
            form_class=SaleForm,
            title="Post a sale",
            template="admin/sales/transaction/sale_form.html",
            permission="sales.add_transaction",
            service=services.sale_post,
            service_kwargs=kwargs,
            preview=preview,
            preview_in_dry_run=True,
            success=lambda sale: (
                f"{sale.number} posted: {sale.total_amount} from {sale.customer.code}.",
                reverse("admin:sales_transaction_change", args=[sale.pk]),
            ),
        )


class ReversalFilter(admin.SimpleListFilter):
    title = "reversal"
    parameter_name = "reversed"

    def lookups(self, request, model_admin):
        return [("1", "Reversed"), ("0", "Not reversed")]

    def queryset(self, request, queryset):
        if self.value() in ("0", "1"):
            return queryset.filter(reversed_at__isnull=self.value() == "0")
        return queryset


def _payments_reverse(*, payments, actor, reason):
    """The selected payments reversed together: all of them, or (on any refusal) none."""
    return [
        services.payment_reverse(payment=payment, actor=actor, reason=reason)
        for payment in payments
    ]


@admin.register(Payment)
class PaymentAdmin(DepotScopedAdminMixin, HistoryAdmin):
    list_display = (
        "number",
        "created_at",
        "customer",
        "amount",
        "allocated",
        "method",
        "reference",
        "received_by",
        "reversal",
    )
    list_filter = ("method", ReversalFilter, "depot", "created_at")
    search_fields = ("=number", "=customer__code", "customer__name", "reference")
    list_select_related = ("customer", "received_by", "reversed_by")
    show_full_result_count = False
    paginator = CappedCountPaginator
    inlines = [AllocationInline]
    actions = ["reverse_selected"]
    exclude = ("idempotency_key", "request_fingerprint")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Payment._meta.fields if f.name not in self.exclude]

    def get_fieldsets(self, request, obj=None):
        fields = [f for f in self.get_readonly_fields(request, obj) if f != "id"]
        reversal = ["reversed_at", "reversed_by", "reversal_reason"]
        main = [f for f in fields if f not in reversal]
        if obj is None or not obj.is_reversed:
            return [(None, {"fields": main})]
        return [(None, {"fields": main}), ("Reversed", {"fields": reversal})]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_reverse_permission(self, request):
        return request.user.has_perm("sales.reverse_payment")

    @admin.display(description="Reversed")
    def reversal(self, obj):
        if not obj.is_reversed:
            return None
        when = timezone.localtime(obj.reversed_at).strftime("%Y-%m-%d %H:%M")
        return f"{when} by {obj.reversed_by.username}"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/reverse/", wrap(self.reverse_view), name="sales_payment_reverse"),
            path("reverse/", wrap(self.reverse_view), name="sales_payment_reverse_selected"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_reverse": self.has_reverse_permission(request),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Reverse the selected payments…", permissions=["reverse"])
    def reverse_selected(self, request, queryset):
        ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:101])
        if len(ids) == 1:
            return redirect("admin:sales_payment_reverse", ids[0])
        if len(ids) > PaymentReverseForm.MAX_PAYMENTS:
            messages.error(
                request, f"Reverse at most {PaymentReverseForm.MAX_PAYMENTS} payments at once."
            )
            return None
        url = reverse("admin:sales_payment_reverse_selected")
        return redirect(f"{url}?payments={','.join(map(str, ids))}")

    def reverse_view(self, request, pk=None):
        """Ask why, preview what becomes unpaid (the real reversal, rolled back), then
        reverse once. One payment (its page's button) or several (the list's action)."""
        scoped = self.get_queryset(request)
        if pk is not None:
            get_object_or_404(scoped, pk=pk)
            form_kwargs = {"queryset": scoped.filter(pk=pk), "ids": str(pk)}
        else:
            form_kwargs = {"queryset": scoped}

        def preview(form, reversed_payments):
            lines = []
            for payment in reversed_payments:
                lines.extend(_reversal_preview(payment))
            lines.append(f"Reason: {form.cleaned_data['reason']}")
            return lines

        def success(reversed_payments):
            numbers = ", ".join(p.number for p in reversed_payments)
            if len(reversed_payments) == 1:
                url = reverse("admin:sales_payment_change", args=[reversed_payments[0].pk])
            else:
                url = reverse("admin:sales_payment_changelist")
            return f"Reversed {numbers}.", url

        return confirm_and_post(
            request,
            self,
            form_class=PaymentReverseForm,
            form_kwargs=form_kwargs,
            title="Reverse this payment" if pk is not None else "Reverse these payments",
            template="admin/sales/payment/reverse_form.html",
            permission="sales.reverse_payment",
            service=_payments_reverse,
            service_kwargs=lambda form: {
                "payments": form.cleaned_data["payments"],
                "actor": request.user,
                "reason": form.cleaned_data["reason"],
            },
            preview=preview,
            preview_in_dry_run=True,
            success=success,
        )

    def add_view(self, request, form_url="", extra_context=None):
        def preview(form, payment):
            customer = payment.customer
            after = customer_balance(customer=customer)
            lines = [
                f"Receive {payment.amount} ({payment.get_method_display()}"
                f"{', ' + payment.reference if payment.reference else ''}) from "
                f"{customer}."
            ]
            for allocation in payment.allocations.select_related("transaction"):
                sale = allocation.transaction
                state = "paid in full" if sale.is_paid else "part paid"
                lines.append(f"Settles {sale.number}: {allocation.amount} ({state}).")
            if payment.unallocated:
                lines.append(f"{payment.unallocated} stays on account for later sales.")
            lines.append(f"Balance: {after + payment.amount} -> {after}.")
            return lines

        return confirm_and_post(
            request,
            self,
            form_class=PaymentForm,
            title="Record a payment",
            permission="sales.add_payment",
            service=services.payment_record,
            service_kwargs=lambda form: {**form.cleaned_data, "actor": request.user},
            preview=preview,
            preview_in_dry_run=True,
            success=lambda payment: (
                f"{payment.number}: {payment.amount} received from {payment.customer.code}.",
                reverse("admin:sales_payment_change", args=[payment.pk]),
            ),
        )


def _reversal_preview(payment) -> list[str]:
    """What reversing `payment` does, read from the audit entry the reversal wrote."""
    entry = (
        AuditLog.objects.filter(
            action="payment_reverse", object_type="sales.payment", object_id=str(payment.pk)
        )
        .order_by("-seq")
        .first()
    )
    data = entry.data
    received = timezone.localtime(payment.created_at).strftime("%Y-%m-%d")
    reference = f", {payment.reference}" if payment.reference else ""
    lines = [
        f"Reverse {payment.number}: {payment.amount} ({payment.get_method_display()}"
        f"{reference}) received {received} from {payment.customer}."
    ]
    for row in data["unsettled"]:
        lines.append(
            f"{row['sale']} becomes unpaid again: {row['amount']} taken back, {row['due']} due."
        )
    if not data["unsettled"]:
        lines.append("It settled no sale: the money was on account.")
    for row in data["resettled"]:
        lines.append(f"{row['sale']}: {row['amount']} on account ({row['payment']}) settles it.")
    after = Decimal(data["balance_after"])
    lines.append(f"Balance of {payment.customer.code}: {after - payment.amount} -> {after} owed.")
    return lines


@dashboard.panel(order=30)
def sales_today_panel(request):
    if not request.user.has_perm("sales.view_transaction"):
        return None
    today = timezone.localdate()
    posted = scope_queryset(Transaction.objects.all(), request.user).filter(
        status=TransactionStatus.POSTED, created_at__date=today
    )
    rows = (
        posted.values("depot__code")
        .annotate(
            cash=Sum("total_amount", filter=Q(payment_type=PaymentType.CASH)),
            credit=Sum("total_amount", filter=Q(payment_type=PaymentType.CREDIT)),
        )
        .order_by("depot__code")
    )
    return {
        "title": f"Sales today ({today:%d %b %Y})",
        "headers": ["Depot", "Cash", "Credit"],
        "rows": [[r["depot__code"], r["cash"] or 0, r["credit"] or 0] for r in rows],
        "link": "admin:sales_transaction_changelist",
        "link_text": "All sales",
        "empty": "No sales posted today yet.",
    }
