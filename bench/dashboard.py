"""The admin dashboard (its home page) over the dataset (1,000,000 sales over two years),
as head office opens it (every depot: the worst case) and filtered by a depot.

Each page is requested through Django's test client: --repeat times as a first load
(`?refresh=1`: every figure read from the database, as when the cache is empty or has
expired) and --repeat times as served from the cache (the figures cached by the previous
request). The whole page is timed (the apps' own panels and the app list too), median
per page, with its SQL queries. Baseline, in the same run: the uncached first load.
Target: the cached page under 300 ms.
"""

import statistics
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench import dataset

NAME = "dashboard"
TARGET_MS = 300


def add_arguments(parser):
    group = parser.add_argument_group(NAME)
    group.add_argument(
        "--dashboard-repeat", type=int, default=5, help="requests per page and way (5)"
    )


def _pages():
    last = dataset.last_day()
    year = {"date_from": (last - timedelta(days=364)).isoformat(), "date_to": last.isoformat()}
    return {
        "default (last 30 days, every depot)": {},
        "a year, every depot": year,
        "a year, one depot": {**year, "depot": "BENCH03"},
    }


def _get(client, params):
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        response = client.get("/admin/", params, secure=True)
        elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"/admin/ {params} answered {response.status_code}")
    return elapsed, len(ctx.captured_queries)


def _measure(client, params, repeat):
    """(median ms, queries) of `repeat` first loads, then of `repeat` cached loads."""
    first = [_get(client, {**params, "refresh": "1"}) for _ in range(repeat)]
    cached = [_get(client, params) for _ in range(repeat)]
    return (
        statistics.median(t for t, _ in first),
        {q for _, q in first},
        statistics.median(t for t, _ in cached),
        {q for _, q in cached},
    )


def run(args):
    dataset.require_postgresql()
    dataset.ensure(args.rows)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(dataset.actors())
    client.get("/admin/", secure=True)  # warm: templates compiled, the session read
    out = []
    for label, params in _pages().items():
        first, first_queries, cached, cached_queries = _measure(
            client, params, args.dashboard_repeat
        )
        out.append(
            {
                "page": label,
                "first_load_ms": f"{first:.0f}",
                "first_load_queries": "/".join(map(str, sorted(first_queries))),
                "cached_ms": f"{cached:.0f}",
                "cached_queries": "/".join(map(str, sorted(cached_queries))),
                "ratio": f"{first / cached:.1f}x faster cached",
                "target": f"cached < {TARGET_MS} ms",
                "ok": cached < TARGET_MS,
            }
        )
    return out
