"""Admin forms for customers' cylinders: a cylinder return (RET-) and a count of the
cylinders a customer holds. They collect input; the services decide."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Q

from core.models import Role, User
from core.numbers import PlainIntegerField
from core.scoping import scope_queryset
from core.widgets import AutocompleteSelect
from sales.models import Customer, CylinderHolding, CylinderReturn
from stock.forms import RepChoiceField
from stock.models import Product, ProductKind
from stock.services import MAX_QUANTITY


class CylinderReturnForm(forms.Form):
    """The customer, the representative who took the empties back, and one count per
    cylinder product (the products left empty are not on the return)."""

    sales_rep = RepChoiceField(queryset=User.objects.none(), label="Sales representative")

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        customer = forms.ModelChoiceField(
            # Closed customers too: their cylinders still come back, with their deposit.
            queryset=scope_queryset(Customer.objects.all(), request.user),
            widget=AutocompleteSelect(CylinderReturn._meta.get_field("customer"), admin.site),
            help_text="Type the account number or a part of the name.",
        )
        self.fields = {"customer": customer, **self.fields}
        self.fields["sales_rep"].queryset = scope_queryset(
            User.objects.filter(role=Role.SALES, is_active=True), request.user
        ).order_by("username")
        # The closed cylinder products still held by a customer come back too.
        held = CylinderHolding.objects.filter(quantity__gt=0).values("product_id")
        self.cylinders = list(
            Product.objects.filter(kind=ProductKind.CYLINDER)
            .filter(Q(is_active=True) | Q(pk__in=held))
            .order_by("sort_order", "code")
        )
        for product in self.cylinders:
            closed = "" if product.is_active else " (closed product)"
            self.fields[f"qty_{product.pk}"] = PlainIntegerField(
                required=False,
                min_value=0,
                max_value=MAX_QUANTITY,
                label=f"{product.code} empties taken back{closed}",
                widget=forms.NumberInput(attrs={"class": "vIntegerField", "min": 0}),
            )

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not any(
            cleaned.get(f"qty_{product.pk}") for product in self.cylinders
        ):
            raise forms.ValidationError(
                "Enter the empties taken back of at least one product.", code="empty_return"
            )
        return cleaned

    def lines(self) -> list[dict]:
        """The return's lines, in the products' order (the service's lines[i])."""
        return [
            {"product": product, "quantity": self.cleaned_data[f"qty_{product.pk}"]}
            for product in self.cylinders
            if self.cleaned_data.get(f"qty_{product.pk}")
        ]


def line_errors_on_fields(exc: ValidationError, lines: list[dict]) -> ValidationError:
    """A service's refusal of lines[i] (a return's) keyed by that product's field of
    CylinderReturnForm, so the admin shows it beside the count that caused it."""
    if not hasattr(exc, "error_dict"):
        return exc
    keyed: dict[str, list[ValidationError]] = {}
    for key, errors in exc.error_dict.items():
        field = key
        if key.startswith("lines["):
            index = key[len("lines[") :].split("]", 1)[0]
            if index.isdigit() and int(index) < len(lines):
                field = f"qty_{lines[int(index)]['product'].pk}"
        keyed.setdefault(field, []).extend(errors)
    return ValidationError(keyed)


class HoldingAdjustForm(forms.Form):
    """A count of one product's cylinders at the customer's site, and why."""

    product = forms.ModelChoiceField(queryset=Product.objects.none())
    counted = PlainIntegerField(
        min_value=0,
        max_value=MAX_QUANTITY,
        label="Cylinders counted",
        help_text="How many the customer holds: the count replaces the figure held.",
    )
    reason = forms.CharField(
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why the figure changes (an opening count, a site visit).",
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(
            kind=ProductKind.CYLINDER, is_active=True
        ).order_by("sort_order", "code")
