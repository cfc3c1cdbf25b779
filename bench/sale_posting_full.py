"""Sale posting in full (issue 19): `sale_post` with tax, deposits, holdings and the
outbox row, against raw SQL doing the same writes, against raw SQL writing only the
business rows, and against PostgreSQL's own hot-row update rate (pgbench).

Setup: benchmark 1's clients (sale_posting._setup: one process per client, its own
representative and vehicle) with benchmark 8's e-mailed customers
(sale_posting_tax._emailed_customers: 20 per client, invoices by e-mail), an 18 % tax
rate in force and a deposit in force on both products. Each sale delivers 2 of each
product and takes 1 empty of each back, so the customer's holding grows by 1 of each and
a deposit is charged on it.

Cases (8 client processes each, interleaved round after round):
- sale_post: the real posting; after the commit its task to the workers (REDIS_URL).
- raw A: psycopg, one transaction per sale, the rows sale_post writes (bench.sale_posting_raw).
- raw B: the same without the history rows, the audit entry and its chain head, and the
  outbox row: the business rows only.
- pgbench: the hot-row ceiling, one row updated per transaction, and two (as a posting
  takes the counter and the chain head).

In every client the shared window is sampled: from the moment the statement that bumps
the year's counter returns to the moment COMMIT returns. While one posting holds it, no
other can take a number: 1 / window is the most sales/s a row held that long allows.
Each window is also split into its round trips (their number and time), the COMMIT and
the rest (Python). Before the clients run, one sale by each side checks that raw A
inserts and updates, table by table, the rows sale_post does (PostgreSQL's statistics).
Targets: sale_post at least 1.0x raw A and 0.5x raw B.
"""

import collections
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from decimal import Decimal

from django.conf import settings
from django.db import connection, connections

from bench import dataset, sale_posting, sale_posting_raw, sale_posting_tax

NAME = "sale_posting_full"
DEPOSITS = {"12.7KG": Decimal("1500.00"), "9KG": Decimal("1100.00")}
LINES = ((2, 1), (2, 1))  # (quantity, empties returned) of each product's line
PGBENCH = "/usr/lib/postgresql/15/bin/pgbench"
CASES = ("sale_post", "raw A", "raw B")


def add_arguments(parser):
    group = parser.add_argument_group(NAME)
    group.add_argument(
        "--full-rounds",
        type=int,
        default=2,
        help="rounds of the cases, interleaved (2); --clients and --sale-seconds are "
        "sale_posting's",
    )


def _deposits_in_force(products):
    """A deposit per cylinder in force on both products, unless one is already."""
    from sales.custody_selectors import deposit_in_force
    from sales.services import deposit_set

    for product in products:
        if deposit_in_force(product=product) != DEPOSITS[product.code]:
            deposit_set(product=product, amount=DEPOSITS[product.code], actor=dataset.actors())


def _setup_full(clients):
    from stock.models import Product

    setups, products = sale_posting._setup(clients)
    emailed = sale_posting_tax._emailed_customers(setups)
    sale_posting_tax._tax_in_force()
    _deposits_in_force(Product.objects.filter(pk__in=products))
    return emailed, products


def _orm_client(setup, products, start_at, seconds, results, out):
    """sale_posting's client with LINES, sampling the shared window of every sale: from
    the counter's UPDATE returning to COMMIT returning (this process only)."""
    from core.models import User
    from sales.models import Customer
    from sales.services import sale_post
    from stock.models import Product

    rep = User.objects.get(pk=setup["rep"])
    customers = list(Customer.objects.filter(pk__in=setup["customers"]))
    by_pk = {p.pk: p for p in Product.objects.filter(pk__in=products)}
    lines = [
        {"product": by_pk[pk], "quantity": quantity, "empties_returned": empties}
        for pk, (quantity, empties) in zip(products, LINES, strict=True)
    ]
    wrapper, windows, window = connections["default"], [], {}
    commit = wrapper._commit

    def watch(execute, sql, params, many, context):
        start = time.perf_counter()
        result = execute(sql, params, many, context)
        if "core_documentcounter" in sql:
            window.update(
                bumped=time.perf_counter(), cpu=time.process_time(), seconds=0.0, statements=0
            )
        elif window:
            window["seconds"] += time.perf_counter() - start
            window["statements"] += 1
        return result

    def timed_commit():
        committing = time.perf_counter()
        commit()
        if window:
            done = time.perf_counter()
            windows.append(
                [
                    done - window["bumped"],
                    window["seconds"],
                    done - committing,
                    window["statements"],
                    time.process_time() - window["cpu"],
                ]
            )
            window.clear()

    wrapper._commit = timed_commit
    time.sleep(max(0.0, start_at - time.time()))
    deadline, done = time.time() + seconds, 0
    with wrapper.execute_wrapper(watch):
        while time.time() < deadline:
            sale_post(
                customer=customers[done % len(customers)], sales_rep=rep, actor=rep, lines=lines
            )
            done += 1
    sale_posting_raw.write_windows(out, windows)
    results.put(done)
    connections.close_all()


def _read_windows(out):
    windows = []
    for name in os.listdir(out):
        with open(os.path.join(out, name)) as file:
            windows.extend(json.load(file))
        os.remove(os.path.join(out, name))
    return windows


def _pgbench(params, clients, seconds, rows):
    """tps of `clients` sessions each updating `rows` hot rows per transaction."""
    if not os.path.exists(PGBENCH):
        return None
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_hot (id int PRIMARY KEY, v bigint)")
        cursor.execute("INSERT INTO bench_hot VALUES (1, 0), (2, 0) ON CONFLICT DO NOTHING")
    connections.close_all()
    updates = [f"UPDATE bench_hot SET v = v + 1 WHERE id = {n};" for n in range(1, rows + 1)]
    script = "\n".join(updates if rows == 1 else ["BEGIN;", *updates, "COMMIT;"]) + "\n"
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as file:
        file.write(script)
        file.flush()
        env = {
            **os.environ,
            **({"PGPASSWORD": params["password"]} if params.get("password") else {}),
        }
        command = [PGBENCH, "-n", "-c", str(clients), "-j", str(min(2, clients))]
        command += ["-T", str(round(seconds))]
        command += ["-f", file.name, "-h", str(params.get("host") or "127.0.0.1")]
        command += ["-p", str(params.get("port") or 5432), "-U", params.get("user") or "postgres"]
        done = subprocess.run(  # noqa: S603 - our pgbench, our arguments
            [*command, params["dbname"]], capture_output=True, text=True, env=env, check=False
        )
    for line in done.stdout.splitlines():
        if line.startswith("tps = "):
            return float(line.split()[2])
    raise SystemExit(f"pgbench failed: {done.stderr or done.stdout}")


def _writes():
    """Rows inserted and updated so far, per table (the statistics each backend flushes
    when it goes idle: the writer forces that flush, see _flushed)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT relname, n_tup_ins, n_tup_upd FROM pg_stat_user_tables "
            "WHERE schemaname = 'public' AND relname <> 'bench_hot'"
        )
        return {table: (ins, upd) for table, ins, upd in cursor.fetchall()}


def _flushed(cursor):
    """The writer's statistics are in the shared tables when this returns (PostgreSQL
    flushes them before it answers the next statement, ReadyForQuery)."""
    cursor.execute("SELECT pg_stat_force_next_flush()")


def _same_rows(setups, products, params):
    """One sale by each client to one customer (after one uncounted sale_post, so that
    their holdings exist): the rows each inserted and updated, per table."""
    from core.models import User
    from sales.models import Customer
    from sales.services import sale_post
    from stock.models import Product

    setup = setups[0]
    rep, customer = User.objects.get(pk=setup["rep"]), setup["customers"][0]
    by_pk = {p.pk: p for p in Product.objects.filter(pk__in=products)}
    lines = [
        {"product": by_pk[pk], "quantity": quantity, "empties_returned": empties}
        for pk, (quantity, empties) in zip(products, LINES, strict=True)
    ]
    posters = {
        "raw A": sale_posting_raw.RawPoster(params, setup, products, LINES, full=True),
        "raw B": sale_posting_raw.RawPoster(params, setup, products, LINES, full=False),
    }

    def post(case):
        if case == "sale_post":
            sale_post(
                customer=Customer.objects.get(pk=customer), sales_rep=rep, actor=rep, lines=lines
            )
            with connection.cursor() as cursor:
                _flushed(cursor)
            return
        posters[case].sale(customer)
        _flushed(posters[case].cur)
        posters[case].conn.commit()
        posters[case].cur.execute("SELECT 1")  # answered after the flush

    post("sale_post")
    written = {}
    for case in CASES:
        before = _writes()
        post(case)
        after = _writes()
        written[case] = {
            t: (after[t][0] - before[t][0], after[t][1] - before[t][1]) for t in sorted(after)
        }
    for poster in posters.values():
        poster.close()
    extra = ("historical", "core_auditlog", "core_auditchainhead", "core_outboxmessage")
    rows = []
    for table in written["sale_post"]:
        cells = {case: written[case][table] for case in CASES}
        if any(any(c) for c in cells.values()):
            rows.append(
                {
                    "table": table,
                    **{case: f"{ins} ins {upd} upd" for case, (ins, upd) in cells.items()},
                }
            )
    same = written["sale_post"] == written["raw A"]
    only = all(
        written["raw B"][t] == ((0, 0) if any(x in t for x in extra) else written["raw A"][t])
        for t in written["raw A"]
    )
    rows.append({"check": "raw A writes the rows sale_post writes", "ok": same})
    rows.append({"check": "raw B writes the business rows only", "ok": only})
    return rows


def _summary(case, rates, sampled, raw_a, raw_b):
    """A case's medians; its windows [seconds, in statements, in COMMIT, statements, CPU]."""
    rate = statistics.median(rates)
    windows = [w[0] for w in sampled]
    cuts = statistics.quantiles(windows, n=20) if len(windows) > 1 else windows * 19
    sql = statistics.median(w[1] for w in sampled)
    commit = statistics.median(w[2] for w in sampled)
    python = statistics.median(w[0] - w[1] - w[2] for w in sampled)
    statements = statistics.median(w[3] for w in sampled)
    cpu = statistics.median(w[4] for w in sampled)
    row = {
        "case": case,
        "rounds": " / ".join(f"{r:.0f}" for r in rates),
        "sales_per_s": f"{rate:.0f}",
        "vs_raw_A": f"{rate / raw_a:.2f}",
        "vs_raw_B": f"{rate / raw_b:.2f}",
        "window_p50_ms": f"{cuts[9] * 1000:.2f}",
        "window_p95_ms": f"{cuts[18] * 1000:.2f}",
        # 1 / p50: the most sales/s one shared row held that long allows
        "limit_per_s": f"{1 / cuts[9]:.0f}",
        # sales/s x mean window: the share of the time the counter row is held
        "counter_held": f"{rate * statistics.fmean(windows):.2f}",
        # the window's medians: its round trips (how many), the COMMIT, the rest (Python)
        "in_window_ms": f"round trips {sql * 1000:.2f} ({statements:.0f}) "
        f"+ commit {commit * 1000:.2f} + python {python * 1000:.2f}; the client's "
        f"cpu {cpu * 1000:.2f}",
    }
    if case == "sale_post":
        row["target"] = ">= 1.0 raw A, >= 0.5 raw B"
        row["ok"] = rate / raw_a >= 1.0 and rate / raw_b >= 0.5
    return row


def run(args):
    dataset.require_postgresql()
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return [
            {
                "case": "skipped",
                "reason": "set REDIS_URL (a Redis database of its own, e.g. "
                "redis://127.0.0.1:6379/7): with eager tasks the outbox is sent inside "
                "each posting",
            }
        ]
    setups, products = _setup_full(args.clients)
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    rows = _same_rows(setups, products, params)
    out = tempfile.mkdtemp(prefix="bench-windows-")
    raw = sale_posting_raw.raw_client
    cases = {
        "sale_post": (_orm_client, (out,)),
        "raw A": (raw, (params, LINES, True, out)),
        "raw B": (raw, (params, LINES, False, out)),
    }
    rates: dict[str, list[float]] = {case: [] for case in CASES}
    windows: dict[str, list[float]] = {case: [] for case in CASES}
    tps: dict[int, list[float]] = {1: [], 2: []}
    activity = {case: collections.Counter() for case in CASES}
    context = multiprocessing.get_context("fork")
    seen = context.Queue()
    try:
        for round_no in range(1, args.full_rounds + 1):
            shift = (round_no - 1) % len(CASES)  # each round starts with another case
            for case in CASES[shift:] + CASES[:shift]:
                target, extra = cases[case]
                # _measure's clients start in 1 s: sampled from 1.5 s to the end
                sampler = context.Process(
                    target=sale_posting_raw.activity,
                    args=(params, time.time() + 1.5, args.sale_seconds - 0.5, seen),
                )
                sampler.start()
                rate = sale_posting._measure(target, setups, products, args.sale_seconds, *extra)
                activity[case].update(seen.get(timeout=30))
                sampler.join()
                sampled = _read_windows(out)
                rates[case].append(rate)
                windows[case].extend(sampled)
                rows.append(
                    {
                        "round": round_no,
                        "case": case,
                        "sales_per_s": f"{rate:.0f}",
                        "window_p50_ms": f"{statistics.median(w[0] for w in sampled) * 1000:.2f}",
                    }
                )
            for hot in tps:
                found = _pgbench(params, args.clients, args.sale_seconds, hot)
                if found is not None:
                    tps[hot].append(found)
                    rows.append(
                        {
                            "round": round_no,
                            "case": f"pgbench {hot} hot row(s)",
                            "tps": f"{found:.0f}",
                        }
                    )
    finally:
        shutil.rmtree(out, ignore_errors=True)
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_hot")
    raw_a, raw_b = statistics.median(rates["raw A"]), statistics.median(rates["raw B"])
    rows += [_summary(case, rates[case], windows[case], raw_a, raw_b) for case in CASES]
    for case, counts in activity.items():
        total = sum(counts.values()) or 1
        shares = ", ".join(f"{state} {n / total:.0%}" for state, n in counts.most_common())
        rows.append({"case": case, "client_backends_sampled": shares})
    for hot, found in tps.items():
        rows.append(
            {
                "case": f"pgbench: {hot} hot row(s) updated per transaction, "
                f"{args.clients} clients (-j {min(2, args.clients)} -n)",
                "tps": f"{statistics.median(found):.0f}" if found else "skipped",
                **({} if found else {"reason": f"{PGBENCH} not found"}),
            }
        )
    return rows
