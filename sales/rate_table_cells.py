"""The cells of the wide rate table: its columns (the standard products, then every
other active product by its code), the list price row, how a cell is read and written,
and how problems are numbered as the clerk's spreadsheet shows them (sales.resources)."""

from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from import_export import widgets
from import_export.results import Result

from core.dates import date_problem
from core.spreadsheets import spreadsheet_text_undo
from sales.services.common import decimal_value
from stock.models import Product

# column heading -> product code, in the order of the familiar paper rate table
RATE_COLUMNS = [
    ("meter rate", "BULK"),
    ("9 kg rate", "9KG"),
    ("12.7 kg rate", "12.7KG"),
    ("14 kg rate", "14KG"),
    ("50 kg POL rate", "50KG-POL"),
    ("50 kg L rate", "50KG-L"),
]
# The headings of files exported before the headings were words: still read.
LEGACY_HEADINGS = {
    "9kg": "9 kg rate",
    "12.7kg": "12.7 kg rate",
    "14kg": "14 kg rate",
    "50kg pol": "50 kg POL rate",
    "50kg l": "50 kg L rate",
}
CODE_COLUMN, NAME_COLUMN, DATE_COLUMN = "customer code", "name", "effective from"
COLUMNS = [CODE_COLUMN, NAME_COLUMN, *(c for c, _ in RATE_COLUMNS), DATE_COLUMN]
# The list price row: its customer-code cell, and what its name cell says.
LIST_PRICE_CODE = "(list price)"
LIST_PRICE_NAME = "List price: what a customer without a contract rate pays"


def rate_attribute(product_code: str) -> str:
    return "rate_" + product_code.replace(".", "_").replace("-", "_")


def extra_rate_columns(products: list[Product] | None = None) -> list[tuple[str, str]]:
    """(heading, product code) of the active products beyond RATE_COLUMNS (services, a
    new cylinder), in the products' order, each headed by its code. A code that reads as
    another heading is left out (it would be ambiguous). `products`: every product, in
    their order, when the caller has read them already (no query then)."""
    taken = {c.lower() for c in COLUMNS}
    standard = {code for _, code in RATE_COLUMNS}
    if products is None:
        products = list(Product.objects.all())
    return [
        (p.code, p.code)
        for p in products
        if p.is_active and p.code not in standard and p.code.lower() not in taken
    ]


def heading_of(name: str) -> str:
    """The column heading a clerk sees for a resource field or a service's field name."""
    headings = {
        "code": CODE_COLUMN,
        "name": NAME_COLUMN,
        "rates_effective_from": DATE_COLUMN,
        "effective_from": DATE_COLUMN,
        **{rate_attribute(code): heading for heading, code in RATE_COLUMNS},
    }
    if name not in headings and name.startswith("rate_"):  # another product's column
        codes = Product.objects.values_list("code", flat=True)
        headings |= {rate_attribute(code): code for code in codes}
    return headings.get(name, name)


def is_list_price_row(row) -> bool:
    return customer_code((row or {}).get(CODE_COLUMN)).lower() == LIST_PRICE_CODE


def customer_code(value) -> str:
    """A customer-code cell as written (an exported '-X1 reads back as -X1)."""
    return spreadsheet_text_undo(str(value or "").strip())


class SheetResult(Result):
    """An import's result as the clerk's spreadsheet shows it: rows by the spreadsheet's
    own numbers (the heading is row 1, the first customer row 2, as the duplicate-customer
    message counts) and problems under the column headings, not the field names.

    `rate_changes` (set by the resource) lists what the import changes, old beside new;
    `problems()` lists what stops it, one plain sentence per cell."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rate_changes: list[dict] = []
        self.rate_import_id: int | None = None  # the RateImport written, when rates changed
        self.cell_values: dict[int, dict] = {}

    def append_invalid_row(self, number, row, validation_error):
        if hasattr(validation_error, "error_dict"):
            validation_error = ValidationError(
                {heading_of(name): errors for name, errors in validation_error.error_dict.items()}
            )
        self.cell_values[number + 1] = dict(row or {})
        super().append_invalid_row(number + 1, row, validation_error)

    def row_errors(self):
        return [(number + 1, errors) for number, errors in super().row_errors()]

    def problems(self) -> list[dict]:
        """Each problem as {"row", "column", "value", "problem"}: row and column as the
        spreadsheet shows them ("" for the whole file or the whole row), the cell as
        typed, the problem in one sentence."""
        found = [
            {"row": "", "column": "", "value": "", "problem": error.message}
            for error in self.base_errors
        ]
        for number, errors in self.row_errors():
            found += [
                {"row": number, "column": "", "value": "", "problem": error.message}
                for error in errors
            ]
        for invalid in self.invalid_rows:
            cells = self.cell_values.get(invalid.number, {})
            for heading, messages in invalid.error_dict.items():
                column = "" if heading == NON_FIELD_ERRORS else heading
                value = cells.get(column) if column else ""
                found += [
                    {
                        "row": invalid.number,
                        "column": column,
                        "value": "" if value is None else str(value),
                        "problem": message,
                    }
                    for message in messages
                ]
        return found


class CodeWidget(widgets.CharWidget):
    def clean(self, value, row=None, **kwargs):
        return customer_code(value)


class RateWidget(widgets.Widget):
    """A rate cell: blank keeps the current rate; otherwise a non-negative amount."""

    def clean(self, value, row=None, **kwargs):
        if value is None or str(value).strip() == "":
            return None
        if isinstance(value, float):  # a spreadsheet's number cell: 2300.5 means 2300.50
            value = repr(value)
        try:
            return decimal_value(value, "rate", minimum=0)
        except ValidationError as exc:
            raise ValueError(exc.message_dict["rate"][0]) from None

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return None if kwargs.get("force_native_type") else ""
        if kwargs.get("force_native_type"):  # XLSX: a number cell, with its cents
            return Decimal(value).quantize(Decimal("0.01"))
        return f"{value:.2f}"


class EffectiveDateWidget(widgets.DateWidget):
    """Blank: the rates apply from now. Otherwise a date (ISO, dd/mm/yyyy or Excel's)."""

    FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y")

    def __init__(self):
        super().__init__(format="%Y-%m-%d")

    def clean(self, value, row=None, **kwargs):
        if value is None or str(value).strip() == "":
            return None
        if hasattr(value, "date") and callable(value.date):  # an Excel datetime cell
            return value.date()
        for fmt in self.FORMATS:
            try:
                return timezone.datetime.strptime(str(value).strip(), fmt).date()
            except ValueError:
                continue
        raise ValueError(
            date_problem(value, self.FORMATS) or f"Enter a date such as 2026-12-01; got {value!r}."
        )
