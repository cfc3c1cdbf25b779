"""The wide rate table (import and export) and the rate imports with their undo."""

from decimal import Decimal

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.cache import cache
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV, XLSX
from import_export.tmp_storages import CacheStorage

from core import display
from core.admin_mixins import DepotScopedAdminMixin, ReadOnlyAdminMixin
from sales import services
from sales.admin.inlines import ReadOnlyInline
from sales.admin.page_words import rate_label
from sales.models import Rate, RateImport, RateTable
from sales.resources import (
    RATE_COLUMNS,
    RateTableResource,
    extra_rate_columns,
    import_problems,
    rate_attribute,
)
from sales.selectors import current_rate_subquery
from stock.models import Product


@admin.register(RateTable)
class RateTableAdmin(
    ReadOnlyAdminMixin, DepotScopedAdminMixin, ImportExportMixin, admin.ModelAdmin
):
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

    @staticmethod
    def _products(request) -> list[Product]:
        """Every product, read once per request (the queryset and the columns use them)."""
        if not hasattr(request, "_rate_table_products"):
            request._rate_table_products = list(Product.objects.all())
        return request._rate_table_products

    def get_queryset(self, request):
        listed = self._products(request)
        products = {p.code: p for p in listed}
        now = timezone.now()
        columns = [*RATE_COLUMNS, *extra_rate_columns(listed)]
        return (
            super()
            .get_queryset(request)
            .annotate(
                **{
                    rate_attribute(code): current_rate_subquery(products[code], now)
                    for _, code in columns
                    if code in products
                }
            )
        )

    def get_list_display(self, request):
        """The standard columns, then one per other active product (services such as
        INSTALL, a new cylinder), headed by its name ("Installation rate"; the
        spreadsheet keeps its code as the heading)."""
        products = self._products(request)
        names = {p.code: rate_label(p) for p in products}
        extra = [
            _rate_column(code, names.get(code, heading))
            for heading, code in extra_rate_columns(products)
        ]
        return [*super().get_list_display(request), *extra]

    def changelist_view(self, request, extra_context=None):
        # The cells are plain amounts (as the spreadsheet has them): say in what.
        currency = getattr(settings, "CURRENCY", "")
        note = {"subtitle": f"Amounts in {currency}."} if currency else {}
        return super().changelist_view(request, {**note, **(extra_context or {})})

    def get_export_queryset(self, request):
        # The changelist's filters come along in the address; import-export builds the
        # changelist without catching what the changelist page itself turns into ?e=1.
        try:
            queryset = super().get_export_queryset(request)
        except IncorrectLookupParameters:
            raise BadRequest("The address holds a filter this list does not have.") from None
        return RateTableResource().with_current_rates(queryset)

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

    def add_success_message(self, result, request):
        """What the import changed, in the clerk's words (import-export says "Import
        finished: 0 new, 2 updated, 0 deleted and 1 skipped rate tables")."""
        changes = getattr(result, "rate_changes", [])
        customers = {change["code"] for change in changes}
        batch = getattr(result, "rate_import_id", None)
        undo = f" (import #{batch}: it can be undone from Sales > Rate imports)" if batch else ""
        messages.success(
            request,
            f"{len(changes)} rate{'s' if len(changes) != 1 else ''} changed for "
            f"{len(customers)} customer{'s' if len(customers) != 1 else ''}{undo}.",
        )

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


def _rate_column(code, heading):
    def column(obj):
        value = getattr(obj, rate_attribute(code), None)
        return "-" if value is None else display.amount(Decimal(value))

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
class RateImportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "created_by", "created_at", "rate_count", "status")
    list_select_related = ("created_by", "undo_of", "undone_by")  # status reads undone_by
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
