"""Admin forms for posting stock. They collect input; the services decide."""

from django import forms

from core.models import Depot, Role, User
from core.numbers import PlainIntegerField
from core.scoping import scope_queryset
from stock.models import DistributionKind, Product, ProductKind, StockState
from stock.services import MAX_QUANTITY


class _ScopedForm(forms.Form):
    """Offers only the depots and representatives the user works with."""

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        user = request.user
        if "depot" in self.fields:
            self.fields["depot"].queryset = scope_queryset(
                Depot.objects.filter(is_active=True), user
            )
        if "sales_rep" in self.fields:
            self.fields["sales_rep"].queryset = scope_queryset(
                User.objects.filter(role=Role.SALES, is_active=True), user
            ).order_by("username")
        if "product" in self.fields:
            self.fields["product"].queryset = Product.objects.filter(
                is_active=True, kind=ProductKind.CYLINDER
            )


class RepChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.username} - {obj.get_full_name() or 'no name'} - vehicle {obj.vehicle_no}"


class ReceiptForm(_ScopedForm):
    depot = forms.ModelChoiceField(queryset=Depot.objects.none())
    product = forms.ModelChoiceField(queryset=Product.objects.none())
    quantity = PlainIntegerField(
        min_value=1, max_value=MAX_QUANTITY, help_text="Full cylinders received."
    )
    note = forms.CharField(
        required=False, max_length=255, help_text="Delivery note or lorry number, if any."
    )


class DistributionForm(_ScopedForm):
    kind = forms.ChoiceField(
        choices=DistributionKind.choices,
        help_text="Collection: full cylinders from the depot onto the vehicle. "
        "Empty return: empties from the vehicle back to the depot.",
    )
    sales_rep = RepChoiceField(
        queryset=User.objects.none(),
        label="Sales representative",
        help_text="Cylinders move between this representative's vehicle and home depot.",
    )
    product = forms.ModelChoiceField(queryset=Product.objects.none())
    quantity = PlainIntegerField(min_value=1, max_value=MAX_QUANTITY)


class StockCountForm(_ScopedForm):
    depot = forms.ModelChoiceField(
        queryset=Depot.objects.none(), required=False, help_text="Count a depot..."
    )
    sales_rep = RepChoiceField(
        queryset=User.objects.none(),
        required=False,
        label="or a vehicle",
        help_text="...or the vehicle of this sales representative.",
    )
    product = forms.ModelChoiceField(queryset=Product.objects.none())
    state = forms.ChoiceField(choices=StockState.choices, label="Full or empty")
    counted = PlainIntegerField(
        min_value=0, max_value=MAX_QUANTITY, help_text="Cylinders physically counted."
    )
    reason = forms.CharField(max_length=255, help_text="Why the count differs, or 'routine count'.")

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("depot")) == bool(cleaned.get("sales_rep")):
            raise forms.ValidationError("Choose either a depot or a vehicle to count.")
        return cleaned
