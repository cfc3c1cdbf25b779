"""Sales > Tax rates: every version of the sales tax rate, newest first; a new version is
added through sales.services.tax_rate_set. Versions are never changed or deleted."""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import ValidationError
from django.db.models import Subquery
from django.utils import timezone

from core.admin_mixins import ShownReadOnlyAdminMixin
from core.admin_services import ServiceSaveAdminMixin
from core.display import moment
from sales import services
from sales.models import TaxRate


class TaxRateForm(forms.ModelForm):
    rate = forms.DecimalField(
        label="Rate (%)",
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        help_text="Percent, e.g. 17.50.",
    )
    starts_on = forms.DateField(
        label="Effective from",
        required=False,
        widget=AdminDateWidget,
        help_text="The first day the rate applies, from the start of that day. Empty or "
        "today: from now. Not before a sale already posted: posted sales keep their tax.",
    )

    class Meta:
        model = TaxRate
        fields = ("rate",)


@admin.register(TaxRate)
class TaxRateAdmin(ShownReadOnlyAdminMixin, ServiceSaveAdminMixin, admin.ModelAdmin):
    form = TaxRateForm
    fields = ("rate", "starts_on")
    # A saved version's page: the moment it took effect, not the add form's empty day.
    shown_readonly = {"starts_on": "effective_shown"}
    list_display = ("rate_shown", "effective_from", "state", "created_by", "created_at")
    list_select_related = ("created_by",)
    ordering = ("-effective_from", "-id")

    def get_queryset(self, request):
        # The version in force now, in the page's one query (for the "State" column).
        in_force = TaxRate.objects.filter(effective_from__lte=timezone.now()).order_by(
            "-effective_from", "-id"
        )
        return (
            super().get_queryset(request).annotate(in_force_id=Subquery(in_force.values("id")[:1]))
        )

    def service_create(self, request, form, values):
        try:
            return services.tax_rate_set(
                rate=values["rate"], effective_from=values.get("starts_on"), actor=request.user
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

    @admin.display(description=f"{settings.TAX_NAME} rate", ordering="rate")
    def rate_shown(self, obj):
        return f"{obj.rate} %"

    @admin.display(description="Effective from")
    def effective_shown(self, obj):
        return moment(obj.effective_from)

    @admin.display(description="State")
    def state(self, obj):
        if obj.pk == obj.in_force_id:
            return "In force"
        return "Scheduled" if obj.effective_from > timezone.now() else "Superseded"
