"""The wide rate table (one row per customer) in and out, through django-import-export.

Import never saves a Customer: each changed cell becomes a new Rate version through
sales.services.rate_set, attributed to the importing user and grouped in one RateImport
batch (so the whole import can be undone). A blank cell keeps the current rate.

Beside the standard columns (RATE_COLUMNS, required), every other active product (a
service such as INSTALL, a new cylinder) has a column headed by its code: exported, and
read when the file has it. The last row, "(list price)" in the customer-code column,
holds the products' list prices (what a customer without a contract rate pays): changed
cells there are set through stock.services.products.list_prices_set (head office only,
audited, at once: its "effective from" stays empty; an undo of the import restores the
rates, not the list prices).

A file is checked whole before any row is read (its size, its headings, each customer
once), and every problem is one plain sentence: never a traceback, which would show the
server's paths (an unexpected error is logged for the administrator instead). Export
escapes text a spreadsheet would run as a formula (core.spreadsheets).
"""

import logging
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from import_export import fields, resources
from import_export.instance_loaders import CachedInstanceLoader
from import_export.results import Error

from core.spreadsheets import spreadsheet_text
from sales.models import Customer
from sales.rate_table_cells import (
    CODE_COLUMN,
    COLUMNS,
    DATE_COLUMN,
    LEGACY_HEADINGS,
    LIST_PRICE_CODE,
    LIST_PRICE_NAME,
    NAME_COLUMN,
    RATE_COLUMNS,
    CodeWidget,
    EffectiveDateWidget,
    RateWidget,
    SheetResult,
    customer_code,
    extra_rate_columns,
    is_list_price_row,
    rate_attribute,
)
from sales.selectors import current_rate_subquery
from sales.services import RateChange, rates_set
from sales.services.common import lock_customers
from sales.services.rates import effective_moment, rate_import_begin, rate_import_discard
from stock.models import Product
from stock.services.products import list_prices_set

logger = logging.getLogger(__name__)

UNEXPECTED = (
    "The import stopped on an unexpected error, so nothing was imported. It has been "
    "logged for the administrator: try again later, or send them the file."
)


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
        self.extra_columns = extra_rate_columns()
        self.rate_columns = [*RATE_COLUMNS, *self.extra_columns]
        self.products = {
            p.code: p
            for p in Product.objects.filter(code__in=[code for _, code in self.rate_columns])
        }
        for column, code in self.rate_columns:
            self.fields[rate_attribute(code)] = fields.Field(
                attribute=rate_attribute(code), column_name=column, widget=RateWidget()
            )
        self.batch = None
        self.changes = []
        self.change_lines: list[dict] = []
        self.list_prices: dict[Product, Decimal] = {}

    @classmethod
    def get_error_result_class(cls):
        return PlainError

    @classmethod
    def get_result_class(cls):
        return SheetResult

    def get_export_order(self):
        rates = [rate_attribute(c) for _, c in self.rate_columns]
        return ["code", "name", *rates, "effective_from"]

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

    def list_price_row(self) -> Customer:
        """The list price row as an (unsaved) customer whose rates are the list prices."""
        row = Customer(code=LIST_PRICE_CODE, name=LIST_PRICE_NAME)
        row.is_list_price = True  # type: ignore[attr-defined]
        for code, product in self.products.items():
            setattr(row, rate_attribute(code), product.list_price)
        return row

    def after_export(self, queryset, dataset, **kwargs):
        dataset.append(
            self.export_resource(
                self.list_price_row(), selected_fields=kwargs.get("export_fields"), **kwargs
            )
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
        wanted = {c.lower(): c for c in [*COLUMNS, *(h for h, _ in self.extra_columns)]}
        wanted |= {old: new for old, new in LEGACY_HEADINGS.items() if old not in wanted}
        headers = list(dataset.headers or [])
        keys = [str(h or "").strip().lower() for h in headers]
        if headers:
            dataset.headers = [wanted.get(k, h) for k, h in zip(keys, headers, strict=True)]
        # "9kg" and "9 kg rate" are one column: counted as one below.
        keys = [wanted.get(k, k).lower() for k in keys]
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
            rows_of.setdefault(
                customer_code(code).lower()
                if is_list_price_row({CODE_COLUMN: code})
                else customer_code(code),
                [],
            ).append(number)
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
        self.change_lines = []
        self.list_prices = {}
        self.batch = rate_import_begin(
            file_name=kwargs.get("file_name") or "", actor=kwargs["user"]
        )

    def get_or_init_instance(self, instance_loader, row):
        if is_list_price_row(row):
            return self.list_price_row(), False
        return super().get_or_init_instance(instance_loader, row)

    def init_instance(self, row=None):
        code = customer_code((row or {}).get(CODE_COLUMN))
        if not code:
            raise ValidationError({"code": "The customer code is empty."})
        raise ValidationError(
            {"code": f"Unknown customer {code!r}: create the customer before importing rates."}
        )

    def after_init_instance(self, instance, new, row, **kwargs):
        instance.current_rates = {
            code: getattr(instance, rate_attribute(code), None) for _, code in self.rate_columns
        }
        instance.rates_effective_from = None

    def changed_rates(self, instance):
        """(product code, new rate) for each cell that changes the rate in force."""
        return [
            (code, getattr(instance, rate_attribute(code)))
            for _, code in self.rate_columns
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
        self.preview_changes(instance)
        if getattr(instance, "is_list_price", False):
            self.list_prices_check(instance, kwargs["user"])
            return
        moment = effective_moment(instance.rates_effective_from)
        for code, rate in self.changed_rates(instance):
            self.changes.append(RateChange(instance, self.products[code], rate, moment))

    def preview_changes(self, instance) -> None:
        """What the row changes, old beside new, for the preview (SheetResult)."""
        headings = {code: heading for heading, code in self.rate_columns}
        for code, rate in self.changed_rates(instance):
            self.change_lines.append(
                {
                    "code": instance.code,
                    "name": instance.name,
                    "column": headings[code],
                    "old": instance.current_rates[code],
                    "new": rate,
                    "effective_from": instance.rates_effective_from,
                }
            )

    def list_prices_check(self, instance, user) -> None:
        """The list price row's changes, kept for after_import; refused on the row when the
        importer is not head office or gives the row a date."""
        problems = {}
        if not (user.is_superuser or user.role == "ADMIN"):
            problems["code"] = ValidationError(
                "List prices are set by head office: leave the list price row as exported.",
                code="list_price_head_office",
            )
        if instance.rates_effective_from is not None:
            problems["effective_from"] = ValidationError(
                "List prices apply at once: leave 'effective from' empty on this row.",
                code="list_price_date",
            )
        if problems:
            raise ValidationError(problems)
        self.list_prices = {self.products[c]: price for c, price in self.changed_rates(instance)}

    def after_import(self, dataset, result, **kwargs):
        result.rate_changes = list(self.change_lines)
        clean = not result.has_errors() and not result.has_validation_errors()
        if self.list_prices and clean:  # the products first, then the rates' audit entries
            list_prices_set(prices=self.list_prices, actor=kwargs["user"])
        if self.changes and clean:
            rates_set(changes=self.changes, actor=kwargs["user"], batch=self.batch)
            result.rate_import_id = self.batch.pk if self.batch is not None else None
        if self.batch is not None:
            # When nothing changed: nothing to undo.
            rate_import_discard(batch=self.batch, actor=kwargs["user"])


def import_problems(result) -> list[str]:
    """Every problem of an import result, one plain sentence each (for a message)."""
    problems = []
    for found in result.problems():
        where = f"Row {found['row']}" if found["row"] else ""
        if found["column"]:
            where += f", column {found['column']!r}"
        problems.append(f"{where}: {found['problem']}" if where else found["problem"])
    return problems
