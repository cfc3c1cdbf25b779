"""9. `manage.py check_stock` with the holdings replay (invariant 11) over the dataset
(1,000,000 sales): every stock level against the replay of the stock ledger, every
customer's holding against the replay of its ledger, and per cylinder product depots +
vehicles + customers against receipts - plant dispatches + adjustments - write-offs, in
one snapshot. Target: under 30 s.

Baseline, in the same run: the same command with only the stock ledger's own checks (the
levels and the vehicles' depots: check_stock before [4/7]), so the ratio is what the
holdings replay and the conservation proof add.

Setup: the holding ledger the migration sales.0014_holdings_replay writes for sales
posted before holdings existed (one entry per cylinder line, one per void's line), when
the database has no holdings yet: a dataset generated after the migration bypassed the
services, so nobody replayed it. A database migrated from before 0014 already has them.
The row counts printed say what was checked.
"""

import statistics
import time
from importlib import import_module
from io import StringIO
from types import SimpleNamespace
from unittest import mock

from django.core.management import call_command
from django.db import connection

from bench import dataset

NAME = "check_stock"
TARGET_SECONDS = 30


def add_arguments(parser):
    group = parser.add_argument_group(NAME)
    group.add_argument("--check-stock-repeat", type=int, default=3, help="runs to time (3)")


def _holdings():
    """The migration's replay, if the dataset's sales have no holdings yet."""
    from django.apps import apps

    replay = import_module("sales.migrations.0014_holdings_replay")
    started = time.perf_counter()
    figures = replay.holdings_replay(apps, SimpleNamespace(connection=connection))
    if figures:
        dataset.log(f"holdings replayed: {figures} in {time.perf_counter() - started:.0f} s")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE sales_holdingentry, sales_cylinderholding")


def _count(table):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return cursor.fetchone()[0]


def _check(only_stock):
    from stock import checks_registry

    out = StringIO()
    checks = [] if only_stock else list(checks_registry.stock_checks)
    started = time.perf_counter()
    # the command reads the list through its own module
    with mock.patch("stock.management.commands.check_stock.stock_checks", checks):
        try:
            call_command("check_stock", stdout=out, stderr=out)
        except SystemExit:
            raise SystemExit(f"check_stock found differences:\n{out.getvalue()}") from None
    return time.perf_counter() - started, out.getvalue()


def run(args):
    dataset.require_postgresql()
    dataset.ensure(args.rows)
    _holdings()
    repeat = args.check_stock_repeat
    fulls, bases, output = [], [], ""
    for _ in range(repeat):  # interleaved: the machine's load moves both alike
        seconds, output = _check(only_stock=False)
        fulls.append(seconds)
        bases.append(_check(only_stock=True)[0])
    full, base = statistics.median(fulls), statistics.median(bases)
    if "Cylinders are conserved" not in output:
        raise SystemExit(f"the holdings checks did not run:\n{output}")
    return [
        {
            "case": (
                f"{_count('sales_transaction'):,} sales, "
                f"{_count('stock_stockmovement'):,} stock movements, "
                f"{_count('sales_holdingentry'):,} holding entries, "
                f"{_count('sales_cylinderholding'):,} holdings"
            ),
            "check_stock_s": f"{full:.1f}",
            "stock_only_s": f"{base:.1f}",
            "ratio": f"{full / base:.2f}x the stock-only check",
            "target": f"< {TARGET_SECONDS} s",
            "ok": full < TARGET_SECONDS,
        }
    ]
