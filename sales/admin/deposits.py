"""Sales > Deposit rates: every version of the deposit per cylinder of each product, newest
first; a new version is added through sales.services.deposit_set. Versions are never
changed or deleted."""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from core.admin_mixins import ShownReadOnlyAdminMixin
from core.admin_services import ServiceSaveAdminMixin
from core.display import moment
from core.numbers import money_text
from sales import services
from sales.admin.list_cells import two_lines
from sales.models import DepositRate
from stock.models import Product, ProductKind


class DepositRateForm(forms.ModelForm):
    product = forms.ModelChoiceField(
        queryset=Product.objects.filter(kind=ProductKind.CYLINDER).order_by("sort_order", "code"),
        help_text="Deposits are charged on cylinders only.",
    )
    amount = forms.DecimalField(
        label="Deposit per cylinder",
        max_digits=14,
        decimal_places=2,
        min_value=0,
        help_text="Charged on each cylinder a customer's holding grows by; 0 for none.",
    )
    starts_on = forms.DateField(
        label="Effective from",
        required=False,
        widget=AdminDateWidget,
        help_text="The first day the deposit applies, from the start of that day. Empty or "
        "today: from now. Not before a sale already posted: posted sales keep their deposits.",
    )

    class Meta:
        model = DepositRate
        fields = ("product", "amount")


@admin.register(DepositRate)
class DepositRateAdmin(ShownReadOnlyAdminMixin, ServiceSaveAdminMixin, admin.ModelAdmin):
    form = DepositRateForm
    fields = ("product", "amount", "starts_on")
    # A saved version's page: the amount as money, the moment it took effect.
    shown_readonly = {"amount": "amount_shown", "starts_on": "effective_shown"}
    # Fits 1366 px: product, amount, from when (its state under), who set it (when under).
    list_display = ("product", "amount_shown", "effective", "set_by")
    list_filter = ("product",)
    list_select_related = ("product", "created_by")
    ordering = ("product__sort_order", "product__code", "-effective_from", "-id")
    show_full_result_count = False

    def get_queryset(self, request):
        # Each product's version in force now, in the page's one query ("State" column).
        in_force = DepositRate.objects.filter(
            product=OuterRef("product"), effective_from__lte=timezone.now()
        ).order_by("-effective_from", "-id")
        return (
            super().get_queryset(request).annotate(in_force_id=Subquery(in_force.values("id")[:1]))
        )

    def service_create(self, request, form, values):
        try:
            return services.deposit_set(
                product=values["product"],
                amount=values["amount"],
                effective_from=values.get("starts_on"),
                actor=request.user,
            )
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                raise
            # the service's effective_from is this form's starts_on: shown on that field
            fields = {"effective_from": "starts_on"}
            raise ValidationError(
                {fields.get(name, name): errors for name, errors in exc.error_dict.items()}
            ) from exc

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Deposit per cylinder", ordering="amount")
    def amount_shown(self, obj):
        return money_text(obj.amount)

    @admin.display(description="From", ordering="effective_from")
    def effective(self, obj):
        return two_lines(moment(obj.effective_from), self.state(obj))

    @admin.display(description="Effective from")
    def effective_shown(self, obj):
        return moment(obj.effective_from)

    @admin.display(description="Set by", ordering="created_at")
    def set_by(self, obj):
        return two_lines(obj.created_by, moment(obj.created_at))

    @admin.display(description="State")
    def state(self, obj):
        if obj.pk == obj.in_force_id:
            return "In force"
        return "Scheduled" if obj.effective_from > timezone.now() else "Superseded"
