"""3. Admin changelists (sales, stock ledger, audit log) over the dataset (1,000,000 sales:
1,000,000 sales, 1.8 million ledger rows, 1,000,000 audit entries).

Each page is requested --repeat times through Django's test client, logged in as head
office (who sees every depot): the median time and the number of SQL queries per page.
Baseline, in the same run: Django's default ModelAdmin for the same model and columns
(bench/urls.py), which counts every row and fetches related objects row by row.
Targets: at most 10 queries on every page, the same number on every page, median under
200 ms.
"""

import statistics
import time

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import clear_url_caches

from bench import dataset

NAME = "changelists"
PAGING = ("", "?p=2", "?p=50", "?p=100")


def add_arguments(parser):
    group = parser.add_argument_group(NAME)
    group.add_argument("--repeat", type=int, default=5, help="requests per page (5)")
    group.add_argument(
        "--skip-baseline", action="store_true", help="do not time Django's default admin"
    )


def _pages():
    from core.models import Depot
    from sales.models import Transaction

    depot = Depot.objects.get(code="BENCH03").pk
    number = Transaction.objects.filter(number__startswith="BT-").order_by("-id")[5000].number
    day = "created_at__gte=2026-01-01+00:00:00%2B00:00&created_at__lt=2026-02-01+00:00:00%2B00:00"
    return {
        "sales": (
            "sales/transaction/",
            ["", "?p=2", "?p=50", "?p=100", f"?depot__id__exact={depot}", f"?{day}",
             f"?q={number}", "?status__exact=VOID"],
        ),
        "ledger": (
            "stock/stockmovement/",
            ["", "?p=2", "?p=50", "?p=100", f"?depot__id__exact={depot}", f"?{day}",
             f"?q={number}", "?kind__exact=ADJUSTMENT"],
        ),
        "audit log": (
            "core/auditlog/",
            ["", "?p=2", "?p=50", "?p=100", f"?depot__id__exact={depot}", f"?{day}",
             "?action__exact=sale_post"],
        ),
    }  # fmt: skip


def _measure(client, url, repeat):
    """Median time and the query counts of `repeat` requests, after one warm-up request
    (its filter values are then cached: every 5 minutes one request reads them again, with
    two more queries)."""
    client.get(url, secure=True)
    times, queries = [], set()
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url, secure=True)
            elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        times.append(elapsed * 1000)
        queries.add(len(ctx.captured_queries))
    return statistics.median(times), queries


def run(args):
    dataset.require_postgresql()
    dataset.ensure(args.rows)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.ROOT_URLCONF = "bench.urls"
    clear_url_caches()
    client = Client()
    client.force_login(dataset.actors())
    out = []
    for label, (path, queries) in _pages().items():
        ours, base, counts, base_counts, paging = [], [], [], set(), set()
        for query in queries:
            median, count = _measure(client, f"/admin/{path}{query}", args.repeat)
            ours.append(median)
            counts.append(count)
            if query in PAGING:
                paging |= count
            if not args.skip_baseline:
                median, count = _measure(client, f"/baseline-admin/{path}{query}", 1)
                base.append(median)
                base_counts |= count
        every = set().union(*counts)
        row = {
            "changelist": f"{label} ({len(queries)} pages: 1, 2, 50, 100, filters, search)",
            "queries_pages_1_2_50_100": "/".join(map(str, sorted(paging))),
            "queries_filtered_or_searched": "/".join(map(str, sorted(every))),
            "median_ms": f"{statistics.median(ours):.0f}",
            "slowest_page_ms": f"{max(ours):.0f}",
        }
        if base:
            row["default_admin_queries"] = f"{min(base_counts)}-{max(base_counts)}"
            row["default_admin_median_ms"] = f"{statistics.median(base):.0f}"
            row["ratio"] = f"{statistics.median(base) / statistics.median(ours):.1f}x faster"
        row["target"] = "<= 10 queries, constant, median < 200 ms"
        row["ok"] = len(paging) == 1 and max(every) <= 10 and statistics.median(ours) < 200
        out.append(row)
    return out
