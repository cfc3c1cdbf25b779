"""Admin forms for sales, payments and rates. They collect input; the services decide."""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError

from core.dates import DateField
from core.models import Role, User
from core.numbers import PlainDecimalField, PlainIntegerField
from core.scoping import scope_queryset
from core.widgets import AutocompleteSelect
from sales.models import Customer, Payment, PaymentMethod, Transaction
from sales.services.common import MAX_AMOUNT, MAX_READING
from stock.forms import RepChoiceField
from stock.models import Product, ProductKind
from stock.services import MAX_QUANTITY


def _initial_choices_checked(form) -> None:
    """The add forms take initial values from the address (?customer=12, as the customer
    page links). A value that is not one of the choices this user may pick (letters, an
    unknown id, another depot's customer) is left out: the form shows without it."""
    for name, field in form.fields.items():
        if name in form.initial and isinstance(field, forms.ModelChoiceField):
            try:
                field.clean(form.initial[name])
            except ValidationError:
                del form.initial[name]


def _customer_field(model, request):
    return forms.ModelChoiceField(
        queryset=scope_queryset(Customer.objects.filter(is_active=True), request.user),
        widget=AutocompleteSelect(model._meta.get_field("customer"), admin.site),
        help_text="Type the account number or a part of the name.",
    )


class SaleForm(forms.Form):
    """One row per cylinder product (quantity sold, empties received), one per service
    (how many: installation, a delivery charge) and a meter reading."""

    sales_rep = RepChoiceField(queryset=User.objects.none(), label="Sales representative")
    meter_reading = PlainDecimalField(
        required=False,
        min_value=0,
        max_value=MAX_READING,
        decimal_places=2,
        label="New meter reading",
        help_text="Bulk tank customers: the reading on the meter now. Leave empty otherwise.",
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields = {"customer": _customer_field(Transaction, request), **self.fields}
        self.fields["sales_rep"].queryset = scope_queryset(
            User.objects.filter(role=Role.SALES, is_active=True), request.user
        ).order_by("username")
        _initial_choices_checked(self)
        self.cylinders = list(Product.objects.filter(kind=ProductKind.CYLINDER, is_active=True))
        for product in self.cylinders:
            self.fields[f"qty_{product.pk}"] = PlainIntegerField(
                required=False,
                min_value=0,
                max_value=MAX_QUANTITY,
                label=f"{product.code} sold",
                widget=forms.NumberInput(attrs={"class": "vIntegerField", "min": 0}),
            )
            self.fields[f"empties_{product.pk}"] = PlainIntegerField(
                required=False,
                min_value=0,
                max_value=MAX_QUANTITY,
                label=f"{product.code} empties received",
                widget=forms.NumberInput(attrs={"class": "vIntegerField", "min": 0}),
            )
        # Services: priced and taxed, never stocked; no empties.
        self.services = list(Product.objects.filter(kind=ProductKind.SERVICE, is_active=True))
        for product in self.services:
            self.fields[f"qty_{product.pk}"] = PlainIntegerField(
                required=False,
                min_value=0,
                max_value=MAX_QUANTITY,
                label=f"{product.name} ({product.code})",
                widget=forms.NumberInput(attrs={"class": "vIntegerField", "min": 0}),
            )

    @property
    def header_fields(self):
        return [self["customer"], self["sales_rep"], self["meter_reading"]]

    def line_rows(self):
        return [
            {
                "product": product,
                "quantity": self[f"qty_{product.pk}"],
                "empties": self[f"empties_{product.pk}"],
            }
            for product in self.cylinders
        ]

    def service_rows(self):
        return [
            {"product": product, "quantity": self[f"qty_{product.pk}"]} for product in self.services
        ]

    def clean(self):
        cleaned = super().clean()
        for product in self.cylinders:
            if cleaned.get(f"empties_{product.pk}") and not cleaned.get(f"qty_{product.pk}"):
                self.add_error(
                    f"qty_{product.pk}",
                    f"Enter the {product.code} cylinders sold, or leave its empties empty.",
                )
        return cleaned

    def lines(self):
        result = []
        for product in self.cylinders:
            quantity = self.cleaned_data.get(f"qty_{product.pk}")
            if quantity:
                empties = self.cleaned_data.get(f"empties_{product.pk}")
                result.append(
                    {
                        "product": product,
                        "quantity": quantity,
                        "empties_returned": quantity if empties is None else empties,
                    }
                )
        for product in self.services:
            quantity = self.cleaned_data.get(f"qty_{product.pk}")
            if quantity:
                result.append({"product": product, "quantity": quantity})
        return result


class VoidForm(forms.Form):
    reason = forms.CharField(
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the sale is voided; kept on the sale and in the audit log.",
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)


class PaymentForm(forms.Form):
    amount = PlainDecimalField(min_value=0.01, max_value=MAX_AMOUNT, decimal_places=2)
    method = forms.ChoiceField(choices=PaymentMethod.choices)
    reference = forms.CharField(
        required=False,
        max_length=100,
        help_text="Cheque number or bank reference (needed for those methods), receipt.",
    )
    received_on = DateField(
        required=False,
        label="Received on",
        help_text="The day the money came. Empty: today. At most "
        f"{settings.PAYMENT_BACKDATE_DAYS} days back, never in the future.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields = {"customer": _customer_field(Payment, request), **self.fields}
        _initial_choices_checked(self)


class PaymentReverseForm(forms.Form):
    """The payments to reverse (their ids ride along through the preview) and why."""

    MAX_PAYMENTS = 100

    payments = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why, in plain words: a cheque returned unpaid, a payment entered twice. "
        "Kept on the payment and in the audit log.",
    )

    def __init__(self, *args, request, queryset, ids="", **kwargs):
        super().__init__(*args, **kwargs)
        self.queryset = queryset  # the payments this user may reverse (admin scoping)
        if ids:
            self.initial["payments"] = ids
        raw = self.data.get("payments", "") if self.is_bound else self.initial.get("payments")
        try:
            self.selected = self._resolve(raw or "")
        except forms.ValidationError:
            self.selected = []

    def _resolve(self, raw: str) -> list:
        parts = [part.strip() for part in str(raw).split(",") if part.strip()]
        if not parts or not all(p.isascii() and p.isdigit() and len(p) <= 18 for p in parts):
            raise forms.ValidationError("Choose the payments to reverse from the list.")
        ids = {int(part) for part in parts}
        if len(ids) > self.MAX_PAYMENTS:
            raise forms.ValidationError(
                f"Reverse at most {self.MAX_PAYMENTS} payments at once; {len(ids)} chosen."
            )
        found = list(self.queryset.filter(pk__in=ids).select_related("customer"))
        if len(found) != len(ids):
            raise forms.ValidationError("Some of these payments are not there to reverse.")
        # Customers are locked in id order, each payment of theirs in turn.
        return sorted(found, key=lambda payment: (payment.customer_id, payment.pk))

    def clean_payments(self):
        return self._resolve(self.cleaned_data["payments"])


class SetRatesForm(forms.Form):
    """One field per product; a blank field keeps the current rate."""

    effective_from = DateField(
        required=False,
        help_text="Empty: from now. A date: from the start of that day.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, request, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.products = list(Product.objects.filter(is_active=True))
        for product in self.products:
            self.fields[f"rate_{product.pk}"] = PlainDecimalField(
                required=False,
                min_value=0,
                max_value=MAX_AMOUNT,
                decimal_places=2,
                label=f"{product.code} rate",
            )

    def changes(self):
        return [
            (product, self.cleaned_data[f"rate_{product.pk}"])
            for product in self.products
            if self.cleaned_data.get(f"rate_{product.pk}") is not None
        ]

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.changes():
            raise forms.ValidationError("Enter at least one new rate.")
        return cleaned
