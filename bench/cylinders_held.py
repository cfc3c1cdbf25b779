"""The cylinders-held report over 4,000 customers (target: under 1 s): every customer's
cylinders and deposit per product with the last movement's date, as head office opens it
(the page's rows and totals) and downloads it (CSV, through PostgreSQL COPY).

Baseline, in the same run: the same rows read the way a screen without the report would,
customer by customer (their holdings, one query each): what the report's one query saves.

Setup (idempotent, independent of bench/dataset.py's sales): depots HB1..HB8 with 500
customers each (HC00001...), each holding three cylinder products with a deposit and a
last movement up to two years back. Written by bulk_create, bypassing the services, and
said so: holdings without their ledger (HoldingEntry), which the report does not read.
"""

import random
import statistics
import time
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from bench import dataset

NAME = "cylinders_held"
TARGET_SECONDS = 1.0
PRODUCTS = ("9KG", "12.7KG", "14KG")


def add_arguments(parser):
    group = parser.add_argument_group(NAME)
    group.add_argument(
        "--held-customers",
        type=int,
        default=4000,
        help="customers holding cylinders (4,000), in depots HB1..HB8",
    )
    group.add_argument("--held-rounds", type=int, default=5, help="timed rounds (5)")


def _setup(customers: int) -> int:
    from core.models import Depot
    from sales.models import Customer, CylinderHolding
    from stock.models import Product

    have = CylinderHolding.objects.filter(customer__code__startswith="HC").count()
    if have >= customers * len(PRODUCTS):
        return have
    depots = []
    for n in range(1, 9):
        depot = Depot.objects.filter(code=f"HB{n}").first()
        if depot is None:
            depot = Depot.objects.create(code=f"HB{n}", name=f"Holdings bench {n}")
        depots.append(depot)
    existing = set(Customer.objects.filter(code__startswith="HC").values_list("code", flat=True))
    Customer.objects.bulk_create(
        [
            Customer(code=code, name=f"Bench holder {i}", depot=depots[i % len(depots)])
            for i in range(1, customers + 1)
            if (code := f"HC{i:05d}") not in existing
        ],
        batch_size=2000,
    )
    products = [Product.objects.get(code=code) for code in PRODUCTS]
    rng = random.Random(16)
    now = timezone.now()
    held = set(
        CylinderHolding.objects.filter(customer__code__startswith="HC").values_list(
            "customer_id", "product_id"
        )
    )
    rows = []
    for customer_id in Customer.objects.filter(code__startswith="HC").values_list("pk", flat=True):
        for product in products:
            if (customer_id, product.pk) in held:
                continue
            quantity = rng.randint(0, 6)
            rows.append(
                CylinderHolding(
                    customer_id=customer_id,
                    product=product,
                    quantity=quantity,
                    deposit_held=Decimal(1500 * quantity),
                    last_movement_at=now - timedelta(days=rng.randint(0, 730)),
                )
            )
    CylinderHolding.objects.bulk_create(rows, batch_size=5000)
    dataset.log(f"{NAME}: {len(rows):,} holdings added")
    return CylinderHolding.objects.filter(customer__code__startswith="HC").count()


def _timed(func, rounds):
    times = []
    result = None
    for _ in range(rounds):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def run(args):
    dataset.require_postgresql()
    from reporting.catalogue import get_report
    from reporting.writers import csv_chunks
    from sales.models import Customer, CylinderHolding

    holdings = _setup(args.held_customers)
    admin = dataset.actors()
    report = get_report("cylinders-held")
    filters = report.filters_from({}, admin)

    def page():
        rows = list(report.rows(filters))
        return len(rows), report.totals(filters)

    def download():
        return sum(len(chunk) for chunk in csv_chunks(report, filters))

    def customer_by_customer():
        rows = 0
        for customer in Customer.objects.select_related("depot").order_by("code"):
            for holding in CylinderHolding.objects.filter(customer=customer).select_related(
                "product"
            ):
                if holding.quantity or holding.deposit_held:
                    rows += 1
        return rows

    page_s, (rows, totals) = _timed(page, args.held_rounds)
    csv_s, size = _timed(download, args.held_rounds)
    base_s, base_rows = _timed(customer_by_customer, max(1, args.held_rounds // 2))
    customers = Customer.objects.filter(holdings__isnull=False).distinct().count()
    return [
        {
            "case": "report page (rows + totals)",
            "customers": f"{customers:,}",
            "holdings": f"{holdings:,}",
            "rows": f"{rows:,}",
            "median_s": f"{page_s:.3f}",
            "target_s": TARGET_SECONDS,
            "met": page_s < TARGET_SECONDS,
        },
        {
            "case": "CSV download (COPY)",
            "bytes": f"{size:,}",
            "median_s": f"{csv_s:.3f}",
            "met": csv_s < TARGET_SECONDS,
        },
        {
            "case": "baseline: customer by customer",
            "rows": f"{base_rows:,}",
            "median_s": f"{base_s:.3f}",
            "ratio_baseline_over_page": f"{base_s / page_s:.1f}x",
            "deposit_total": totals["deposit_held"],
        },
    ]
