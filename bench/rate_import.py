"""4. Rate-table import: 2,000 customers x 6 rates (12,000 new rate versions), through the
admin as head office does it: upload (the dry run and its preview page), then confirm.

Baseline in the same run: django-import-export's default per-row path for the same
12,000 rates: a plain ModelResource of Rate (one row per customer and product, customers
and products by code through ForeignKeyWidget, an instance looked up per row, each saved
on its own), dry run then confirm through `import_data`. Target: under 15 s in all.
"""

import csv
import io
import time
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.utils import setup_test_environment, teardown_test_environment
from django.urls import reverse

from bench import dataset

NAME = "rate_import"


def add_arguments(parser):
    group = parser.add_argument_group(NAME)
    group.add_argument(
        "--customers", type=int, default=2000, help="customers in the rate table (2,000)"
    )
    group.add_argument(
        "--skip-library-default", action="store_true", help="do not time the baseline"
    )


def _customers(count):
    from core.models import Depot
    from sales.models import Customer

    depot, _ = Depot.objects.get_or_create(code="BENCHRATE", defaults={"name": "Rate bench"})
    have = set(Customer.objects.filter(depot=depot).values_list("code", flat=True))
    Customer.objects.bulk_create(
        Customer(code=code, name=f"Rate customer {n}", depot=depot, payment_type="CREDIT")
        for n in range(count)
        if (code := f"BR{n:05d}") not in have
    )
    return list(
        Customer.objects.filter(depot=depot).order_by("code").values_list("code", "name")[:count]
    )


def _table(customers, base):
    """The wide rate table, every rate new (base moves each run)."""
    from sales.resources import COLUMNS, RATE_COLUMNS

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for n, (code, name) in enumerate(customers):
        rates = [f"{base + n % 97 + 10 * i:.2f}" for i in range(len(RATE_COLUMNS))]
        writer.writerow([code, name, *rates, ""])
    return out.getvalue().encode()


def _ours(client, table):
    from sales.models import RateImport

    started = time.perf_counter()
    upload = SimpleUploadedFile("rates.csv", table, content_type="text/csv")
    preview = client.post(
        reverse("admin:sales_ratetable_import"),
        {"resource": 0, "format": 0, "import_file": upload},
        secure=True,
    )
    if preview.status_code != 200 or preview.context.get("confirm_form") is None:
        raise SystemExit("the rate-table dry run was refused")
    dry = time.perf_counter() - started
    before = RateImport.objects.count()
    done = client.post(
        reverse("admin:sales_ratetable_process_import"),
        preview.context["confirm_form"].initial,
        secure=True,
    )
    total = time.perf_counter() - started
    if done.status_code != 302 or RateImport.objects.count() != before + 1:
        raise SystemExit("the rate-table import did not finish")
    return dry, total - dry, RateImport.objects.order_by("-pk").first().rates.count()


def _library_default(customers, base, admin):
    import tablib
    from import_export import fields, resources, widgets

    from sales.models import Customer, Rate
    from sales.resources import RATE_COLUMNS
    from stock.models import Product

    class RateResource(resources.ModelResource):
        customer = fields.Field(
            attribute="customer",
            column_name="customer",
            widget=widgets.ForeignKeyWidget(Customer, "code"),
        )
        product = fields.Field(
            attribute="product",
            column_name="product",
            widget=widgets.ForeignKeyWidget(Product, "code"),
        )

        class Meta:
            model = Rate
            fields = ("id", "customer", "product", "rate", "effective_from", "created_by")

    now = time.strftime("%Y-%m-%d %H:%M:%S")
    data = tablib.Dataset(
        headers=["id", "customer", "product", "rate", "effective_from", "created_by"]
    )
    for n, (code, _) in enumerate(customers):
        for i, (_, product) in enumerate(RATE_COLUMNS):
            data.append(["", code, product, f"{base + n % 97 + 10 * i:.2f}", now, admin.pk])
    resource = RateResource()
    started = time.perf_counter()
    result = resource.import_data(data, dry_run=True, user=admin)
    dry = time.perf_counter() - started
    if result.has_errors() or result.has_validation_errors():
        raise SystemExit("the library's import refused the file")
    resource.import_data(data, dry_run=False, user=admin)
    return dry, time.perf_counter() - started - dry, len(data)


def run(args):
    from sales.models import Rate

    dataset.require_postgresql()
    admin = dataset.actors()
    customers = _customers(args.customers)
    setup_test_environment()  # the test client then keeps each response's context
    try:
        client = Client()
        client.force_login(admin)
        base = Decimal(1000 + Rate.objects.count() % 1000)
        dry, confirm, written = _ours(client, _table(customers, base))
    finally:
        teardown_test_environment()
    row = {
        "case": f"{len(customers):,} customers x 6 rates",
        "dry_run_s": f"{dry:.1f}",
        "confirm_s": f"{confirm:.1f}",
        "total_s": f"{dry + confirm:.1f}",
        "rates_written": written,
    }
    if not args.skip_library_default:
        base_dry, base_confirm, rows = _library_default(customers, base + 500, admin)
        row["library_default_s"] = (
            f"{base_dry + base_confirm:.1f} (dry run {base_dry:.1f} + confirm "
            f"{base_confirm:.1f}, {rows:,} rows)"
        )
        row["ratio"] = f"{(base_dry + base_confirm) / (dry + confirm):.1f}x faster"
    row["target"] = "< 15 s"
    row["ok"] = dry + confirm < 15
    return [row]
