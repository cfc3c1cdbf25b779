"""Cash-ups (CU-): the list (managers see their depots'; shortfalls stand out), the
read-only page of one, a manager's "New cash-up" on a representative's behalf (the
expected figures previewed before it posts) and "Confirm" (with a note when the variance
is over the tolerance). Every write goes through sales.services."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from core.admin_flow import CappedCountPaginator, confirm_and_post
from core.admin_mixins import DepotScopedAdminMixin, HistoryAdmin
from core.models import Role, User
from core.numbers import PlainDecimalField
from core.scoping import scope_queryset
from sales import services
from sales.admin.document_pages import money
from sales.admin.list_cells import two_lines
from sales.day_models import CashUp
from sales.services.common import MAX_AMOUNT
from stock.forms import RepChoiceField


def variance_words(variance: Decimal) -> str:
    """The variance as a clerk reads it: short, over, or exact."""
    if variance < 0:
        return f"Short by {money(-variance)}"
    if variance > 0:
        return f"Over by {money(variance)}"
    return "Exact"


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%d %b %Y %H:%M") if moment else "-"


class CashUpForm(forms.Form):
    """A cash-up a manager posts on a representative's behalf."""

    sales_rep = RepChoiceField(queryset=User.objects.none(), label="Sales representative")
    counted_cash = PlainDecimalField(
        min_value=0,
        max_value=MAX_AMOUNT,
        decimal_places=2,
        label="Cash counted",
        help_text="The cash the representative handed in, counted: digits, no separators "
        "(e.g. 12500.00).",
    )
    note = forms.CharField(max_length=255, required=False, widget=forms.TextInput())

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        reps = User.objects.filter(role=Role.SALES)
        self.fields["sales_rep"].queryset = scope_queryset(reps, request.user).order_by("username")


class CashUpConfirmForm(forms.Form):
    note = forms.CharField(
        max_length=255,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What was done about a shortfall or surplus; needed when the variance "
        "is over the tolerance.",
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)


@admin.register(CashUp)
class CashUpAdmin(DepotScopedAdminMixin, HistoryAdmin):
    # Fits 1366 px: number (posted under), representative, the money, status (who
    # confirmed under).
    list_display = (
        "cash_up",
        "sales_rep",
        "expected",
        "counted",
        "variance_shown",
        "status_shown",
    )
    list_display_links = ("cash_up",)
    list_filter = ("status", "depot", "created_at")
    search_fields = ("=number", "sales_rep__username")
    list_select_related = ("sales_rep", "depot", "confirmed_by")
    show_full_result_count = False
    paginator = CappedCountPaginator
    fields = (
        "number",
        "sales_rep",
        "depot",
        "period",
        "posted",
        "sales_shown",
        "payments_shown",
        "refunds_shown",
        "expected",
        "counted",
        "variance_shown",
        "note",
        "created_by",
        "status",
        "confirmed_by",
        "confirmed_when",
        "confirm_note",
    )
    readonly_fields = fields

    @admin.display(description="Number", ordering="id")
    def cash_up(self, obj: CashUp) -> str:
        return two_lines(obj.number, _when(obj.created_at))

    @admin.display(description="Status", ordering="status")
    def status_shown(self, obj: CashUp) -> str:
        by = f"by {obj.confirmed_by.username}" if obj.confirmed_by else ""
        return two_lines(obj.get_status_display(), by)

    @admin.display(description="Posted", ordering="created_at")
    def posted(self, obj: CashUp) -> str:
        return _when(obj.created_at)

    @admin.display(description="Period")
    def period(self, obj: CashUp) -> str:
        since = _when(obj.period_start) if obj.period_start else "their first document"
        return f"From {since} to {_when(obj.created_at)}"

    @admin.display(description="Cash sales (less voids)")
    def sales_shown(self, obj: CashUp) -> str:
        return money(obj.cash_sales)

    @admin.display(description="Cash payments received")
    def payments_shown(self, obj: CashUp) -> str:
        return money(obj.cash_payments)

    @admin.display(description="Deposit refunds paid out")
    def refunds_shown(self, obj: CashUp) -> str:
        return money(obj.cash_refunds)

    @admin.display(description="Expected", ordering="expected_cash")
    def expected(self, obj: CashUp) -> str:
        return money(obj.expected_cash)

    @admin.display(description="Counted", ordering="counted_cash")
    def counted(self, obj: CashUp) -> str:
        return money(obj.counted_cash)

    @admin.display(description="Variance", ordering="variance")
    def variance_shown(self, obj: CashUp) -> str:
        words = variance_words(obj.variance)
        if obj.variance < 0:
            return format_html('<strong class="hsh-short" style="color:#b00">{}</strong>', words)
        return words

    @admin.display(description="Confirmed")
    def confirmed_when(self, obj: CashUp) -> str:
        return _when(obj.confirmed_at)

    def has_add_permission(self, request):
        return request.user.has_perm("sales.add_cashup")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/confirm/", wrap(self.confirm_view), name="sales_cashup_confirm"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_confirm": request.user.has_perm("sales.confirm_cashup"),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def confirm_view(self, request, pk):
        cashup = get_object_or_404(self.get_queryset(request), pk=pk)
        tolerance = settings.CASHUP_VARIANCE_TOLERANCE

        def preview(form, confirmed):
            lines = [
                f"Confirm {cashup.number} of {cashup.sales_rep.username}: expected "
                f"{money(cashup.expected_cash)}, counted "
                f"{money(cashup.counted_cash)}.",
                f"{variance_words(cashup.variance)} (tolerance {money(tolerance)}).",
            ]
            if form.cleaned_data["note"]:
                lines.append(f"Note: {form.cleaned_data['note']}")
            return lines

        return confirm_and_post(
            request,
            self,
            form_class=CashUpConfirmForm,
            title=f"Confirm {cashup.number} ({variance_words(cashup.variance).lower()})",
            permission="sales.confirm_cashup",
            service=services.cashup_confirm,
            service_kwargs=lambda form: {
                "cashup": cashup,
                "actor": request.user,
                "note": form.cleaned_data["note"],
            },
            preview=preview,
            success=lambda confirmed: (
                f"{confirmed.number} is confirmed.",
                reverse("admin:sales_cashup_change", args=[confirmed.pk]),
            ),
        )

    def add_view(self, request, form_url="", extra_context=None):
        def preview(form, cashup):
            since = _when(cashup.period_start) if cashup.period_start else "their first sale"
            return [
                f"Cash-up of {cashup.sales_rep.username} (vehicle "
                f"{cashup.sales_rep.vehicle_no or '-'}), since {since}:",
                f"Cash sales (less voids): {money(cashup.cash_sales)}.",
                f"Cash payments received: {money(cashup.cash_payments)}.",
                f"Deposit refunds paid out: {money(cashup.cash_refunds)}.",
                f"Expected: {money(cashup.expected_cash)}; counted: {money(cashup.counted_cash)}.",
                f"{variance_words(cashup.variance)}.",
            ]

        return confirm_and_post(
            request,
            self,
            form_class=CashUpForm,
            title="New cash-up",
            permission="sales.add_cashup",
            service=services.cashup_post,
            service_kwargs=lambda form: {
                "sales_rep": form.cleaned_data["sales_rep"],
                "counted_cash": form.cleaned_data["counted_cash"],
                "note": form.cleaned_data["note"],
                "actor": request.user,
            },
            preview=preview,
            preview_in_dry_run=True,
            success=lambda cashup: (
                f"{cashup.number}: {cashup.sales_rep.username} expected "
                f"{money(cashup.expected_cash)}, counted "
                f"{money(cashup.counted_cash)} ({variance_words(cashup.variance).lower()}).",
                reverse("admin:sales_cashup_change", args=[cashup.pk]),
            ),
        )


__all__ = ["CashUpAdmin", "CashUpConfirmForm", "CashUpForm", "variance_words"]
