"""Admin forms of the cylinder custody screens: dispatch of empties to the filling plant,
transfers between depots, a representative's load sheet, count sheets and write-offs.

Documents with several products show one row per cylinder product (as the sale form
does): a quantity field named after the product (`qty_<id>`, or `counted_<id>_<state>` on
a count sheet). They collect input; the services decide."""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q

from core.models import Depot, Role, User
from core.numbers import PlainIntegerField
from core.scoping import scope_queryset
from stock.forms import RepChoiceField
from stock.models import (
    DistributionKind,
    Product,
    ProductKind,
    StockLevel,
    StockState,
    WriteOffCause,
)
from stock.selectors import count_sheet
from stock.services import MAX_QUANTITY, WRITE_OFF_REASON_MAX_LENGTH


def _quantity_field(label: str, **kwargs) -> PlainIntegerField:
    return PlainIntegerField(
        required=False,
        min_value=0,
        max_value=MAX_QUANTITY,
        label=label,
        widget=forms.NumberInput(attrs={"class": "vIntegerField", "min": 0}),
        **kwargs,
    )


def _depots(request):
    return scope_queryset(Depot.objects.filter(is_active=True), request.user)


def _reps(request, *, departed: bool = False):
    """The representatives of the user's depots; with departed, also those no longer
    active, whose vehicle may still be emptied, written off and counted."""
    reps = User.objects.filter(role=Role.SALES)
    if not departed:
        reps = reps.filter(is_active=True)
    return scope_queryset(reps, request.user).order_by("username")


def _cylinders(*, held: bool = False):
    """Active cylinder products; with held, also the inactive ones still in stock
    somewhere, whose cylinders may still be sent back, moved as empties and written off."""
    products = Product.objects.filter(kind=ProductKind.CYLINDER)
    if not held:
        return products.filter(is_active=True)
    stock = StockLevel.objects.filter(product=OuterRef("pk")).exclude(quantity=0)
    return products.filter(Q(is_active=True) | Q(Exists(stock)))


class ProductRowsForm(forms.Form):
    """A form with one quantity row per active cylinder product; blank or 0: none of it."""

    row_label = "cylinders"
    row_heading = "Cylinders"
    # Rows also for inactive products still in stock: their empties may still move.
    held_products = False

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.cylinders = list(_cylinders(held=self.held_products))
        for product in self.cylinders:
            label = f"{product.code} {self.row_label}"
            if not product.is_active:
                label = f"{product.code} (no longer sold: empties only) {self.row_label}"
            self.fields[f"qty_{product.pk}"] = _quantity_field(label)

    @property
    def header_fields(self):
        return [self[name] for name in self.fields if not name.startswith("qty_")]

    def line_rows(self):
        return [{"product": p, "quantity": self[f"qty_{p.pk}"]} for p in self.cylinders]

    def lines(self) -> list[dict]:
        data = getattr(self, "cleaned_data", {})
        return [
            {"product": p, "quantity": data[f"qty_{p.pk}"]}
            for p in self.cylinders
            if data.get(f"qty_{p.pk}")
        ]

    @staticmethod
    def line_field(line: dict, attribute: str) -> str | None:
        """The form field of a service's `lines[i].<attribute>` error."""
        return f"qty_{line['product'].pk}"

    def clean(self):
        cleaned = super().clean()
        quantities_valid = not any(name.startswith("qty_") for name in self.errors)
        if quantities_valid and not self.lines():
            raise forms.ValidationError(
                "Enter how many cylinders of at least one product.", code="no_lines"
            )
        return cleaned


class DispatchForm(forms.Form):
    """Empties leaving a depot for the filling plant."""

    depot = forms.ModelChoiceField(queryset=Depot.objects.none())
    product = forms.ModelChoiceField(queryset=Product.objects.none())
    quantity = PlainIntegerField(
        min_value=1, max_value=MAX_QUANTITY, help_text="Empty cylinders sent to the plant."
    )
    reference = forms.CharField(
        max_length=40,
        label="Delivery note",
        help_text="The number on the filling plant's delivery note for these empties.",
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["depot"].queryset = _depots(request)
        self.fields["product"].queryset = _cylinders(held=True)


class TransferForm(ProductRowsForm):
    """Cylinders, all full or all empty, from one depot to another: one TRF- document."""

    row_label = "to transfer"
    row_heading = "Cylinders to transfer"
    held_products = True

    from_depot = forms.ModelChoiceField(
        queryset=Depot.objects.none(), label="From depot", help_text="Where the cylinders leave."
    )
    to_depot = forms.ModelChoiceField(
        queryset=Depot.objects.none(), label="To depot", help_text="Where they arrive."
    )
    state = forms.ChoiceField(
        choices=StockState.choices,
        initial=StockState.FULL,
        help_text="One transfer moves full cylinders or empties, not both.",
    )
    reference = forms.CharField(
        required=False, max_length=40, help_text="The waybill or lorry number, if any."
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        self.fields["from_depot"].queryset = _depots(request)
        # Cylinders may go to any open depot, also one the manager does not work for.
        self.fields["to_depot"].queryset = Depot.objects.filter(is_active=True)


class LoadSheetForm(ProductRowsForm):
    """A representative's morning load (full cylinders onto the vehicle) or evening empty
    return, every product on one DST- document."""

    row_label = "cylinders"
    row_heading = "Cylinders of each product"
    held_products = True

    kind = forms.ChoiceField(
        choices=DistributionKind.choices,
        label="Load or return",
        help_text="Collection: the morning load, full cylinders from the depot onto the "
        "vehicle. Empty return: the evening's empties from the vehicle back to the depot.",
    )
    sales_rep = RepChoiceField(
        queryset=User.objects.none(),
        label="Sales representative",
        help_text="Cylinders move between this representative's vehicle and home depot.",
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        # A departed representative's vehicle may still be emptied (an empty return).
        self.fields["sales_rep"].queryset = _reps(request, departed=True)


class WriteOffForm(forms.Form):
    """Cylinders that left the books other than by a count: damaged, lost or condemned."""

    depot = forms.ModelChoiceField(
        queryset=Depot.objects.none(), required=False, help_text="At a depot..."
    )
    sales_rep = RepChoiceField(
        queryset=User.objects.none(),
        required=False,
        label="or on a vehicle",
        help_text="...or on the vehicle of this sales representative.",
    )
    product = forms.ModelChoiceField(queryset=Product.objects.none())
    state = forms.ChoiceField(choices=StockState.choices, label="Full or empty")
    quantity = PlainIntegerField(
        min_value=1, max_value=MAX_QUANTITY, help_text="Cylinders written off."
    )
    cause = forms.ChoiceField(choices=WriteOffCause.choices)
    reason = forms.CharField(
        max_length=WRITE_OFF_REASON_MAX_LENGTH,  # the ledger note adds the cause
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What happened, in plain words (a police report number for a theft, the "
        "inspection that condemned them). Kept on the ledger and in the audit log.",
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["depot"].queryset = _depots(request)
        self.fields["sales_rep"].queryset = _reps(request, departed=True)
        self.fields["product"].queryset = _cylinders(held=True)

    def clean(self):
        cleaned = super().clean()
        chosen = bool(cleaned.get("depot")) != bool(cleaned.get("sales_rep"))
        if not chosen and "depot" not in self.errors and "sales_rep" not in self.errors:
            raise forms.ValidationError("Choose either a depot or a vehicle.")
        return cleaned


class CountPlaceForm(forms.Form):
    """The first step of a count sheet: which depot or vehicle is counted."""

    depot = forms.ModelChoiceField(
        queryset=Depot.objects.none(), required=False, help_text="Count a depot..."
    )
    sales_rep = RepChoiceField(
        queryset=User.objects.none(),
        required=False,
        label="or a vehicle",
        help_text="...or the vehicle of this sales representative.",
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["depot"].queryset = _depots(request)
        # An inactive representative's vehicle may still be counted (and emptied).
        self.fields["sales_rep"].queryset = _reps(request, departed=True)

    def clean(self):
        cleaned = super().clean()
        chosen = bool(cleaned.get("depot")) != bool(cleaned.get("sales_rep"))
        if not chosen and "depot" not in self.errors and "sales_rep" not in self.errors:
            raise forms.ValidationError("Choose either a depot or a vehicle to count.")
        return cleaned


def _state_key(state: str) -> str:
    return str(state).lower()


class CountSheetForm(CountPlaceForm):
    """Every product and state of one depot or vehicle, prefilled with the system's
    figures; one reason for the whole sheet. The place rides along hidden: the rows are
    that place's, so it is changed by opening another sheet, never on this one."""

    reason = forms.CharField(
        max_length=255,
        help_text="One reason for the whole sheet: 'routine month-end count', or what "
        "explains the differences.",
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        self.fields["depot"].widget = forms.HiddenInput()
        self.fields["sales_rep"].widget = forms.HiddenInput()
        source = self.data if self.is_bound else self.initial
        self.place_depot = self._chosen("depot", source)
        self.place_rep = self._chosen("sales_rep", source)
        self.rows: list[dict] = []
        if bool(self.place_depot) != bool(self.place_rep):
            self.rows = count_sheet(depot=self.place_depot, sales_rep=self.place_rep)
        for row in self.rows:
            name = self._name(row["product"], row["state"])
            self.fields[f"counted_{name}"] = _quantity_field(
                f"{row['product'].code} {_state_key(row['state'])} counted",
                initial=row["system_quantity"],
            )
            # The figure the sheet showed: the preview warns when the system's moved since.
            self.fields[f"shown_{name}"] = PlainIntegerField(
                required=False,
                min_value=-MAX_QUANTITY,
                max_value=MAX_QUANTITY,
                initial=row["system_quantity"],
                widget=forms.HiddenInput(),
            )

    def _chosen(self, name: str, source) -> object | None:
        value = source.get(name) if hasattr(source, "get") else None
        if value in (None, ""):
            return None
        try:
            return self.fields[name].clean(value)
        except ValidationError:
            return None

    @staticmethod
    def _name(product: Product, state: str) -> str:
        return f"{product.pk}_{_state_key(state)}"

    @property
    def place_label(self) -> str:
        if self.place_rep is not None:
            rep = self.place_rep
            return f"vehicle {rep.vehicle_no or 'without a number'} ({rep.username})"
        if self.place_depot is not None:
            return f"depot {self.place_depot.code}"
        return ""

    @property
    def header_fields(self):
        return [self["reason"]]

    def line_rows(self):
        return [
            {
                "product": row["product"],
                "state": StockState(row["state"]).label,
                "system": row["system_quantity"],
                "counted": self[f"counted_{self._name(row['product'], row['state'])}"],
            }
            for row in self.rows
        ]

    def lines(self) -> list[dict]:
        data = getattr(self, "cleaned_data", {})
        lines = []
        for row in self.rows:
            counted = data.get(f"counted_{self._name(row['product'], row['state'])}")
            if counted is not None:
                lines.append({"product": row["product"], "state": row["state"], "counted": counted})
        return lines

    def moved_since_shown(self) -> list[tuple[dict, int]]:
        """(row, figure shown) for each row whose system figure changed since the sheet
        was opened."""
        data = getattr(self, "cleaned_data", {})
        moved = []
        for row in self.rows:
            shown = data.get(f"shown_{self._name(row['product'], row['state'])}")
            if shown is not None and shown != row["system_quantity"]:
                moved.append((row, shown))
        return moved

    def mark_shown(self) -> None:
        """Carry the system's figures of this request as the ones shown: the preview's
        confirm button sends them back, so a confirm can tell whether a figure moved
        since the preview."""
        data = self.data.copy()
        for row in self.rows:
            data[f"shown_{self._name(row['product'], row['state'])}"] = str(row["system_quantity"])
        self.data = data

    @staticmethod
    def line_field(line: dict, attribute: str) -> str | None:
        return f"counted_{CountSheetForm._name(line['product'], line['state'])}"

    def clean(self):
        cleaned = super().clean()
        counts_valid = not any(name.startswith("counted_") for name in self.errors)
        if self.rows and counts_valid and not self.lines():
            raise forms.ValidationError("Enter the count of at least one product.", code="no_lines")
        return cleaned
