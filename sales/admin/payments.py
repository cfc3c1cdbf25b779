"""Payments: recording, and reversing one or several."""

from decimal import Decimal

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse

from core.admin_flow import CappedCountPaginator, confirm_and_post
from core.admin_mixins import DepotScopedAdminMixin, HistoryAdmin
from core.display import day, moment, money
from core.models import AuditLog
from sales import services
from sales.admin.document_pages import MomentsShown, moment_fields
from sales.admin.list_cells import two_lines
from sales.admin.page_rows import payment_page
from sales.forms import PaymentForm, PaymentReverseForm
from sales.models import Payment
from sales.selectors import customer_balance


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
class PaymentAdmin(MomentsShown, DepotScopedAdminMixin, HistoryAdmin):
    # Fits 1366 px beside the side bars: number, customer, amount, what it settled,
    # status; the day, method, reference and who received it on second lines.
    list_display = ("payment", "customer_shown", "amount_shown", "settled", "status_shown")
    list_filter = ("method", ReversalFilter, "depot", "created_at")
    search_fields = ("=number", "=customer__code", "customer__name", "reference")
    list_select_related = ("customer", "received_by", "reversed_by")
    show_full_result_count = False
    paginator = CappedCountPaginator
    inlines = ()  # its allocations: the page's own panel, with links and readable money
    actions = ["reverse_selected"]
    exclude = ("idempotency_key", "request_fingerprint")

    def get_readonly_fields(self, request, obj=None):
        fields = [f.name for f in Payment._meta.fields if f.name not in self.exclude]
        return moment_fields(fields, obj)

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

    @admin.display(description="Payment", ordering="id")
    def payment(self, obj):
        return two_lines(obj.number, f"received {day(obj.received_on)}")

    @admin.display(description="Customer", ordering="customer__code")
    def customer_shown(self, obj):
        how = obj.get_method_display() + (f" {obj.reference}" if obj.reference else "")
        return two_lines(
            f"{obj.customer.code} {obj.customer.name}", f"{how} · {obj.received_by.username}"
        )

    @admin.display(description="Amount", ordering="amount")
    def amount_shown(self, obj):
        return money(obj.amount)

    @admin.display(description="Settled sales", ordering="allocated")
    def settled(self, obj):
        return money(obj.allocated)

    @admin.display(description="Status")
    def status_shown(self, obj):
        if obj.is_reversed:
            return two_lines("Reversed", f"{moment(obj.reversed_at)} by {obj.reversed_by.username}")
        if obj.unallocated:
            return two_lines("On account", f"{money(obj.unallocated)} not yet settling a sale")
        return "Settled"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/reverse/", wrap(self.reverse_view), name="sales_payment_reverse"),
            path("reverse/", wrap(self.reverse_view), name="sales_payment_reverse_selected"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            "title": "Payment",  # not "View transaction": the page is read, never edited
            **(extra_context or {}),
            "can_reverse": self.has_reverse_permission(request),
            "can_resend": request.user.has_perm("core.resend_outboxmessage"),
        }
        payment = self.get_object(request, unquote(object_id))
        if payment is not None:  # else the admin says it does not exist
            extra_context["page"] = payment_page(payment, user=request.user)
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
                f"Receive {money(payment.amount)} ({payment.get_method_display()}"
                f"{', ' + payment.reference if payment.reference else ''}) from "
                f"{customer}."
            ]
            for allocation in payment.allocations.select_related("transaction"):
                sale = allocation.transaction
                state = "paid in full" if sale.is_paid else "part paid"
                lines.append(f"Settles {sale.number}: {money(allocation.amount)} ({state}).")
            if payment.unallocated:
                lines.append(f"{money(payment.unallocated)} stays on account for later sales.")
            lines.append(f"Balance: {money(after + payment.amount)} -> {money(after)}.")
            lines.append(f"Received on {day(payment.received_on)}.")
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
                f"{payment.number}: {money(payment.amount)} received from {payment.customer.code}.",
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
    received = day(payment.created_at)
    reference = f", {payment.reference}" if payment.reference else ""
    lines = [
        f"Reverse {payment.number}: {money(payment.amount)} ({payment.get_method_display()}"
        f"{reference}) received {received} from {payment.customer}."
    ]
    for row in data["unsettled"]:
        lines.append(
            f"{row['sale']} becomes unpaid again: {money(row['amount'])} taken back, "
            f"{money(row['due'])} due."
        )
    if not data["unsettled"]:
        lines.append("It settled no sale: the money was on account.")
    for row in data["resettled"]:
        lines.append(
            f"{row['sale']}: {money(row['amount'])} on account ({row['payment']}) settles it."
        )
    after = Decimal(data["balance_after"])
    lines.append(
        f"Balance of {payment.customer.code}: {money(after - payment.amount)} -> "
        f"{money(after)} owed."
    )
    return lines
