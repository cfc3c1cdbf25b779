"""The wide rate table (one row per customer) in and out, through django-import-export.

Import never saves a Customer: each changed cell becomes a new Rate version through
sales.services.rate_set, attributed to the importing user and grouped in one RateImport
batch (so the whole import can be undone). A blank cell keeps the current rate.

A file is checked whole before any row is read (its size, its headings, each customer
once), and every problem is one plain sentence: never a traceback, which would show the
server's paths (an unexpected error is logged for the administrator instead). Export
escapes text a spreadsheet would run as a formula (core.spreadsheets).
"""

import logging

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from import_export import fields, resources, widgets
from import_export.instance_loaders import CachedInstanceLoader
from import_export.results import Error, Result

from core.dates import date_problem
from core.spreadsheets import spreadsheet_text, spreadsheet_text_undo
from sales.models import Customer
from sales.selectors import current_rate_subquery
from sales.services import RateChange, rates_set
from sales.services.common import decimal_value, lock_customers
from sales.services.rates import effective_moment, rate_import_begin, rate_import_discard
from stock.models import Product

# column heading -> product code, in the order of the familiar paper rate table
RATE_COLUMNS = [
    ("meter rate", "BULK"),
    ("9kg", "9KG"),
    ("12.7kg", "12.7KG"),
    ("14kg", "14KG"),
    ("50kg POL", "50KG-POL"),
    ("50kg L", "50KG-L"),
]
CODE_COLUMN, NAME_COLUMN, DATE_COLUMN = "customer code", "name", "effective from"
COLUMNS = [CODE_COLUMN, NAME_COLUMN, *(c for c, _ in RATE_COLUMNS), DATE_COLUMN]


logger = logging.getLogger(__name__)

UNEXPECTED = (
    "The import stopped on an unexpected error, so nothing was imported. It has been "
    "logged for the administrator: try again later, or send them the file."
)


def rate_attribute(product_code: str) -> str:
    return "rate_" + product_code.replace(".", "_").replace("-", "_")


def heading_of(name: str) -> str:
    """The column heading a clerk sees for a resource field or a service's field name."""
    headings = {
        "code": CODE_COLUMN,
        "name": NAME_COLUMN,
        "rates_effective_from": DATE_COLUMN,
        "effective_from": DATE_COLUMN,
        **{rate_attribute(code): heading for heading, code in RATE_COLUMNS},
    }
    return headings.get(name, name)


def customer_code(value) -> str:
    """A customer-code cell as written (an exported '-X1 reads back as -X1)."""
    return spreadsheet_text_undo(str(value or "").strip())


class SheetResult(Result):
    """An import's result as the clerk's spreadsheet shows it: rows by the spreadsheet's
    own numbers (the heading is row 1, the first customer row 2, as the duplicate-customer
    message counts) and problems under the column headings, not the field names."""

    def append_invalid_row(self, number, row, validation_error):
        if hasattr(validation_error, "error_dict"):
            validation_error = ValidationError(
                {heading_of(name): errors for name, errors in validation_error.error_dict.items()}
            )
        super().append_invalid_row(number + 1, row, validation_error)

    def row_errors(self):
        return [(number + 1, errors) for number, errors in super().row_errors()]


class PlainError(Error):
    """An import problem as a clerk reads it: `message`, one sentence. A refusal keeps
    its own words; anything else (a bug, a database failure) is logged with its
    traceback and shown as UNEXPECTED. No traceback ever reaches the page."""

    def __init__(self, error, row=None, number=None):
        if not isinstance(error, ValidationError):
            logger.error("rate-table import failed", exc_info=error)
            error = ValidationError(UNEXPECTED)
        super().__init__(error, row=row, number=number)

    @property
    def message(self) -> str:
        return " ".join(self.error.messages)

    @property
    def traceback(self) -> str:
        return ""


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
        return "" if value is None else f"{value:.2f}"


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


class RateTableResource(resources.ModelResource):
    code = fields.Field(attribute="code", column_name=CODE_COLUMN, widget=CodeWidget())
    name = fields.Field(attribute="name", column_name=NAME_COLUMN, readonly=True)
    effective_from = fields.Field(
        attribute="rates_effective_from", column_name=DATE_COLUMN, widget=EffectiveDateWidget()
    )

    class Meta:
        model = Customer
        import_id_fields = ("code",)
        instance_loader_class = CachedInstanceLoader
        use_transactions = True
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = False

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.products = {
            p.code: p for p in Product.objects.filter(code__in=dict(RATE_COLUMNS).values())
        }
        for column, code in RATE_COLUMNS:
            self.fields[rate_attribute(code)] = fields.Field(
                attribute=rate_attribute(code), column_name=column, widget=RateWidget()
            )
        self.batch = None
        self.changes = []

    @classmethod
    def get_error_result_class(cls):
        return PlainError

    @classmethod
    def get_result_class(cls):
        return SheetResult

    def get_export_order(self):
        return ["code", "name", *(rate_attribute(c) for _, c in RATE_COLUMNS), "effective_from"]

    get_import_order = get_export_order

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        return spreadsheet_text(value) if isinstance(value, str) else value

    def get_queryset(self):
        """Customers with their rates in force now, as the attributes the columns read."""
        return self.with_current_rates(Customer.objects.all())

    def with_current_rates(self, queryset):
        now = timezone.now()
        return queryset.annotate(
            **{
                rate_attribute(code): current_rate_subquery(product, now)
                for code, product in self.products.items()
            }
        )

    # --- import ---------------------------------------------------------------------

    def import_data(
        self,
        dataset,
        dry_run=False,
        raise_errors=False,
        use_transactions=None,
        collect_failed_rows=False,
        rollback_on_validation_errors=False,
        **kwargs,
    ):
        problems = self.file_problems(dataset)
        if problems:  # refused whole, before any row is read
            result = self.get_result_class()()
            result.diff_headers = self.get_diff_headers()
            result.total_rows = len(dataset)
            for problem in problems:
                result.append_base_error(PlainError(ValidationError(problem)))
            return result
        self.changes = []
        # A rate table is imported whole or not at all, however it is called.
        return super().import_data(
            dataset,
            dry_run=dry_run,
            raise_errors=raise_errors,
            use_transactions=True,
            collect_failed_rows=collect_failed_rows,
            rollback_on_validation_errors=True,
            **kwargs,
        )

    def file_problems(self, dataset) -> list[str]:
        """What makes the whole file unimportable, one sentence per problem: too many
        rows (checked first: the rest reads every row), missing or repeated headings, a
        customer on more than one row. Headings are matched without regard to case or
        surrounding spaces (and put in the canonical spelling)."""
        limit = settings.RATE_IMPORT_MAX_ROWS
        if len(dataset) > limit:
            return [
                f"This file has {len(dataset):,} customer rows; one import takes at most "
                f"{limit:,}. Split the file into parts of at most {limit:,} rows (each with "
                "the heading row) and import them one after another."
            ]
        problems = []
        wanted = {c.lower(): c for c in COLUMNS}
        headers = list(dataset.headers or [])
        keys = [str(h or "").strip().lower() for h in headers]
        if headers:
            dataset.headers = [wanted.get(k, h) for k, h in zip(keys, headers, strict=True)]
        missing = [c for c in COLUMNS if c not in dataset.headers]
        if missing:
            problems.append(
                f"The file has no column {', '.join(repr(m) for m in missing)}. "
                f"Expected the columns: {', '.join(COLUMNS)}."
            )
        positions = {}
        for position, key in enumerate(keys, start=1):
            if key:
                positions.setdefault(key, []).append(position)
        for key, where in positions.items():
            if len(where) > 1:
                problems.append(
                    f"The column {wanted.get(key, key)!r} appears more than once (columns "
                    f"{' and '.join(map(str, where))}): keep one."
                )
        if missing or problems:
            return problems
        rows_of = {}
        for number, code in enumerate(dataset[CODE_COLUMN], start=2):  # row 1: headings
            rows_of.setdefault(customer_code(code), []).append(number)
        twice = {code: rows for code, rows in rows_of.items() if code and len(rows) > 1}
        if twice:
            problems.append(
                "A customer may appear once: "
                + "; ".join(
                    f"{code} on rows {', '.join(map(str, rows))}" for code, rows in twice.items()
                )
                + "."
            )
        return problems

    def before_import(self, dataset, **kwargs):
        codes = {customer_code(code) for code in dataset[CODE_COLUMN]}
        # Every customer of the file locked first, in one order (see lock_customers).
        lock_customers(Customer.objects.filter(code__in=codes).values_list("pk", flat=True))
        self.changes = []
        self.batch = rate_import_begin(
            file_name=kwargs.get("file_name") or "", actor=kwargs["user"]
        )

    def init_instance(self, row=None):
        code = customer_code((row or {}).get(CODE_COLUMN))
        if not code:
            raise ValidationError({"code": "The customer code is empty."})
        raise ValidationError(
            {"code": f"Unknown customer {code!r}: create the customer before importing rates."}
        )

    def after_init_instance(self, instance, new, row, **kwargs):
        instance.current_rates = {
            code: getattr(instance, rate_attribute(code), None) for _, code in RATE_COLUMNS
        }
        instance.rates_effective_from = None

    def changed_rates(self, instance):
        """(product code, new rate) for each cell that changes the rate in force."""
        return [
            (code, getattr(instance, rate_attribute(code)))
            for _, code in RATE_COLUMNS
            if getattr(instance, rate_attribute(code)) is not None
            and getattr(instance, rate_attribute(code)) != instance.current_rates[code]
        ]

    def import_instance(self, instance, row, **kwargs):
        super().import_instance(instance, row, **kwargs)
        # A blank cell keeps the current rate: show it unchanged in the preview.
        for code, current in instance.current_rates.items():
            if getattr(instance, rate_attribute(code)) is None:
                setattr(instance, rate_attribute(code), current)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors:
            return False
        return not self.changed_rates(instance)

    def save_instance(self, instance, is_create, row, **kwargs):
        # Checked now (the row's own errors show on its row); written all at once by
        # after_import, through the service, as one batch.
        moment = effective_moment(instance.rates_effective_from)
        for code, rate in self.changed_rates(instance):
            self.changes.append(RateChange(instance, self.products[code], rate, moment))

    def after_import(self, dataset, result, **kwargs):
        if self.changes and not result.has_errors() and not result.has_validation_errors():
            rates_set(changes=self.changes, actor=kwargs["user"], batch=self.batch)
        if self.batch is not None:
            # When nothing changed: nothing to undo.
            rate_import_discard(batch=self.batch, actor=kwargs["user"])


def import_problems(result) -> list[str]:
    """Every problem of an import result, one plain sentence each (for a message)."""
    problems = [error.message for error in result.base_errors]
    for number, errors in result.row_errors():
        problems += [f"Row {number}: {error.message}" for error in errors]
    for invalid in result.invalid_rows:
        for heading, messages in invalid.error_dict.items():
            where = "" if heading == NON_FIELD_ERRORS else f", column {heading!r}"
            problems += [f"Row {invalid.number}{where}: {m}" for m in messages]
    return problems
