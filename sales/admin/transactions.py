"""Sales: the list, posting a sale, voiding one or several."""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from core.admin_flow import CappedCountPaginator, confirm_and_post
from core.admin_mixins import DepotScopedAdminMixin, HistoryAdmin
from core.display import moment
from core.numbers import money_text
from sales import services
from sales.admin.document_pages import (
    MomentsShown,
    deposit_amounts,
    line_deposit,
    moment_fields,
    refund_went,
)
from sales.admin.list_cells import two_lines
from sales.admin.page_rows import sale_page
from sales.delivery_status import (
    INVOICE_FILTERS,
    invoice_filter,
    row_status_words,
    with_invoice_status,
)
from sales.forms import SaleForm, VoidForm
from sales.models import Customer, MeterSale, PaymentType, Transaction
from sales.selectors import customer_balance


class UnpaidFilter(admin.SimpleListFilter):
    title = "payment"
    parameter_name = "unpaid"  # "1": the customer page's "All unpaid sales" link

    def lookups(self, request, model_admin):
        return [("1", "Unpaid credit sales"), ("part", "Part paid"), ("paid", "Paid")]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.unpaid_credit()
        if self.value() == "part":
            return invoice_filter(queryset, "part_paid")
        if self.value() == "paid":
            return invoice_filter(queryset, "paid")
        return queryset


class InvoiceFilter(admin.SimpleListFilter):
    """Where each invoice got to: printed, e-mailed, failed, ... (sales.delivery_status)."""

    title = "invoice"
    parameter_name = "invoice"

    def lookups(self, request, model_admin):
        shown = ("generated", "printed", "emailed", "email_failed", "email_waiting", "void")
        return [(value, INVOICE_FILTERS[value][0]) for value in shown]

    def queryset(self, request, queryset):
        return invoice_filter(queryset, self.value() or "")


@admin.register(Transaction)
class TransactionAdmin(MomentsShown, DepotScopedAdminMixin, HistoryAdmin):
    # Fits 1366 px beside the side bars: number, customer, total, paid, status; the
    # date, the representative, depot and terms, and the invoice's state on second lines.
    list_display = ("sale", "customer_shown", "total", "paid", "status_shown")
    list_filter = ("status", "payment_type", InvoiceFilter, UnpaidFilter, "depot", "created_at")
    search_fields = ("=number", "=customer__code", "customer__name")
    list_select_related = ("customer", "sales_rep", "depot")
    show_full_result_count = False
    # "Show counts" would count every filter's choices over every sale (the invoice
    # filter's EXISTS over a million rows): not on this list.
    show_facets = admin.ShowFacets.NEVER
    paginator = CappedCountPaginator
    raw_id_fields = ("customer",)
    inlines = ()  # lines, meter, payments and credit note: the page's own panels
    actions = ["void_selected"]
    exclude = ("idempotency_key", "request_fingerprint")

    def get_queryset(self, request):
        # The invoice column's four flags: EXISTS subqueries of the page's one query.
        return with_invoice_status(super().get_queryset(request))

    @admin.display(description="Sale", ordering="id")
    def sale(self, obj):
        return two_lines(obj.number, moment(obj.occurred_at))

    @admin.display(description="Customer", ordering="customer__code")
    def customer_shown(self, obj):
        terms = obj.get_payment_type_display()
        return two_lines(
            f"{obj.customer.code} {obj.customer.name}",
            f"{terms} · {obj.sales_rep.username} · {obj.depot.code}",
        )

    @admin.display(description="Status", ordering="status")
    def status_shown(self, obj):
        return two_lines(obj.get_status_display(), row_status_words(obj))

    def get_search_results(self, request, queryset, search_term):
        """A sale's number, or a customer's code or part of their name. Each through an
        index: the customers are looked up first (a small table), then their sales."""
        term = search_term.replace("\x00", "").strip()  # PostgreSQL refuses NUL in text
        if not term:
            return queryset, False
        customers = Customer.objects.filter(Q(code__iexact=term) | Q(name__icontains=term))
        ids = list(customers.values_list("pk", flat=True))
        return queryset.filter(Q(number=term.upper()) | Q(customer_id__in=ids)), False

    # The sale's money as people read it (12,500.00), in the model's order.
    money_shown = {
        "net_amount": "net",
        "tax_rate": "tax_rate_shown",
        "tax_amount": "tax",
        "deposit_amount": "deposits",
        "deposit_refund": "deposit_refunded",
        "total_amount": "total",
        "amount_paid": "paid",
    }

    def get_readonly_fields(self, request, obj=None):
        # A sale that charged or refunded no deposit (a deposit-exempt customer's) does
        # not mention deposits at all.
        hidden = {
            name
            for name in ("deposit_amount", "deposit_refund")
            if obj is None or not getattr(obj, name)
        }
        fields = [
            self.money_shown.get(f.name, f.name)
            for f in Transaction._meta.fields
            if f.name not in self.exclude and f.name not in hidden
        ]
        return moment_fields(fields, obj)

    def get_exclude(self, request, obj=None):
        return (*self.exclude, *self.money_shown)

    @admin.display(description="Net")
    def net(self, obj):
        # null only for a sale posted before tax existed, until 0011's backfill reaches it
        return money_text(obj.total_amount if obj.net_amount is None else obj.net_amount)

    @admin.display(description=f"{settings.TAX_NAME} rate")
    def tax_rate_shown(self, obj):
        return f"{obj.tax_rate} %"

    @admin.display(description=settings.TAX_NAME)
    def tax(self, obj):
        return money_text(obj.tax_amount)

    @admin.display(description="Deposits (not taxed)")
    def deposits(self, obj):
        return money_text(obj.deposit_amount)

    @admin.display(description="Deposit refunded")
    def deposit_refunded(self, obj):
        return f"{money_text(obj.deposit_refund)}, {refund_went(obj)} (not in the total)"

    @admin.display(description="Total", ordering="total_amount")
    def total(self, obj):
        return money_text(obj.total_amount)

    @admin.display(description="Paid", ordering="amount_paid")
    def paid(self, obj):
        return money_text(obj.amount_paid)

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
            "title": "Sale",  # not "View transaction": the page is read, never edited
            **(extra_context or {}),
            "can_void": request.user.has_perm("sales.void_transaction"),
            "can_resend": request.user.has_perm("core.resend_outboxmessage"),
        }
        sale = self.get_object(request, unquote(object_id))
        if sale is not None:  # else the admin says it does not exist
            extra_context["page"] = sale_page(sale, user=request.user)
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
            lines = [f"Void {sale.number} of {sale.customer} ({money_text(sale.total_amount)})."]
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
            went = refund_went(sale) if sale.deposit_refund else ""
            for line in sale.lines.select_related("product"):
                if not line.product.is_cylinder:  # a service: priced and taxed, not stocked
                    lines.append(
                        f"{line.quantity} x {line.product.name} ({line.product.code}) at "
                        f"{money_text(line.rate)} = {money_text(line.subtotal)} "
                        "(a service: no cylinders move)"
                    )
                    continue
                lines.append(
                    f"{line.quantity} x {line.product.code} at {money_text(line.rate)} = "
                    f"{money_text(line.subtotal)}"
                    f" ({line.empties_returned} empties received)"
                )
                deposit = line_deposit(line, went=went, fmt=money_text)
                if deposit is not None:
                    words, amount = deposit
                    lines.append(f"{words} = {amount}" if amount else f"{words}.")
            meter = MeterSale.objects.filter(transaction=sale).first()
            if meter:
                lines.append(
                    f"Meter {meter.last_reading} -> {meter.latest_reading}: {meter.quantity} "
                    f"at {money_text(meter.rate)} = {money_text(meter.subtotal)}"
                )
            lines.append(
                f"Net {money_text(sale.net_amount or 0)} + {settings.TAX_NAME} at "
                f"{sale.tax_rate} % {money_text(sale.tax_amount)}"
            )
            deposits = deposit_amounts(sale, fmt=money_text)
            if deposits["charged"]:
                lines.append("{}: {}".format(*deposits["charged"]))
            lines.append(f"Total: {money_text(sale.total_amount)}")
            if deposits["refunded"]:
                lines.append("{}: {}".format(*deposits["refunded"]))
            if sale.payment_type == PaymentType.CASH:
                lines.append("Cash sale: paid now.")
            else:
                # The balance after counts the deposit refunded to the account.
                after = customer_balance(customer=sale.customer)
                before = after - sale.total_amount + sale.deposit_refund
                limit = sale.customer.credit_limit
                lines.append(
                    f"Credit sale: balance {money_text(before)} -> {money_text(after)}"
                    + (f" (limit {money_text(limit)})." if limit is not None else ".")
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
                f"{sale.number} posted: {money_text(sale.total_amount)} from {sale.customer.code}.",
                reverse("admin:sales_transaction_change", args=[sale.pk]),
            ),
        )
