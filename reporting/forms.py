from django import forms

from core.models import Depot, Role, User
from core.scoping import scope_queryset
from reporting.display import filter_label, option_word
from sales.models import PaymentType
from stock.models import Product


class ReportFilterForm(forms.Form):
    """The filters of one report as a GET form: only those the report uses, so a clerk
    cannot pick one that would do nothing. Validation is parse_filters' (one place)."""

    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    depot = forms.ChoiceField(required=False)
    sales_rep = forms.ChoiceField(required=False, label="Representative")
    customer = forms.CharField(required=False, label="Customer code")
    product = forms.ChoiceField(required=False)
    payment_type = forms.ChoiceField(
        required=False, choices=[("", "All"), *PaymentType.choices], label="Payment"
    )

    def __init__(self, *args, user, report, **kwargs):
        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if name not in report.filters_used:
                del self.fields[name]
        if "depot" in self.fields:
            depots = scope_queryset(Depot.objects.all(), user)
            self.fields["depot"].choices = [("", "All")] + [(d.code, d.code) for d in depots]
        if "sales_rep" in self.fields:
            reps = scope_queryset(User.objects.filter(role=Role.SALES), user).order_by("username")
            self.fields["sales_rep"].choices = [("", "All")] + [
                (r.username, r.username) for r in reps
            ]
        if "product" in self.fields:
            self.fields["product"].choices = [("", "All")] + [
                (p.code, p.code) for p in Product.objects.all()
            ]
        for name, (allowed, default) in report.options.items():
            self.fields[name] = forms.ChoiceField(
                choices=[(a, option_word(a).capitalize()) for a in allowed],
                initial=default,
                required=False,
                label=filter_label(name),
            )
