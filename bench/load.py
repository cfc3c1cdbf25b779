"""The API under a working day's load (issue 19; BENCHMARKS.md section 13).

- load: locust (bench/locustfile.py) runs 200 handhelds (sales, payments, syncs) and 20
  office users (dashboard, sales list, stock ledger, a report), paced to about 30
  requests/s, against `gunicorn -w 8`; statistics from the end of the ramp-up, every
  request of the run counted for "no errors".
- baseline, against the same server: one handheld and one office user, one request at
  a time, unpaced: each endpoint's latency with nothing else running.

Targets: sale POST p95 < 150 ms, dashboard p95 < 500 ms at 30 requests/s (27 at
least), no failed request; check_stock, check_money, verify_audit clean after. Setup
(idempotent, through the services) in the dataset's depots: representatives
bench-load-NNN with vehicle stock and 5 customers each (with rates), office users
bench-load-ho-N / bench-load-mgr-N, one password hash computed once for all; the
handhelds use access tokens issued ahead (signed in since the morning).
"""

import csv
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

NAME = "load"
ROOT = Path(__file__).resolve().parent.parent
PRODUCTS = ("12.7KG", "9KG")  # as bench/locustfile.py sells them
RATES = {"12.7KG": "3000.00", "9KG": "2200.00"}
VEHICLE_STOCK = 500  # full cylinders of each product per handheld, topped up each run
TARGET_SALE_P95 = 150
TARGET_DASHBOARD_P95 = 500
TARGET_RATE = 30
SALE = "POST /api/sales/"
DASHBOARD = "GET /admin/ (dashboard)"


def add_arguments(parser):
    group = parser.add_argument_group(NAME)
    group.add_argument(
        "--load-seconds", type=int, default=50, help="the loaded run, after ramp-up (50)"
    )
    group.add_argument("--load-users", type=int, default=200, help="handhelds (200; office: 1/10)")
    group.add_argument(
        "--load-baseline-seconds", type=int, default=15, help="the unloaded baseline (15)"
    )
    group.add_argument("--load-workers", type=int, default=8, help="gunicorn workers (8)")


# --- setup -------------------------------------------------------------------------------


def _setup(handhelds: int, office: int) -> dict:
    """The accounts (see the module's docstring): {"handhelds": [...], "office": [...]}."""
    from django.contrib.auth.hashers import make_password

    from bench import dataset
    from core.models import Depot, User
    from core.services import user_create
    from sales.models import Customer
    from sales.services import customer_create, rates_set
    from sales.services.rates import RateChange
    from stock.models import Product, StockLevel
    from stock.services import distribution_post, stock_receive

    admin = dataset.actors()
    depots = list(Depot.objects.filter(code__startswith="BENCH0").order_by("code"))[:8]
    products = [Product.objects.get(code=code) for code in PRODUCTS]
    for depot in depots:
        for product in products:
            level = StockLevel.objects.filter(
                depot=depot, sales_rep__isnull=True, product=product, state="FULL"
            ).first()
            if level is None or level.quantity < handhelds * VEHICLE_STOCK:
                stock_receive(
                    depot=depot, product=product, quantity=handhelds * VEHICLE_STOCK, actor=admin
                )

    def account(username, **fields):
        return User.objects.filter(username=username).first() or user_create(
            username=username, password=None, actor=admin, **fields
        )

    reps = [
        account(
            f"bench-load-{i:03d}",
            role="SALES",
            depots=[depots[i % len(depots)]],
            vehicle_no=f"BL-{i:03d}",
        )
        for i in range(handhelds)
    ]
    staff = [
        account(f"bench-load-ho-{k}", role="ADMIN")
        if k % 5 == 0
        else account(f"bench-load-mgr-{k}", role="MANAGER", depots=[depots[k % len(depots)]])
        for k in range(office)
    ]
    hashed = make_password(dataset.PASSWORD)  # one hash for all: 0.3 s of CPU each
    unusable = {"password__startswith": "!"}  # opened without one above
    User.objects.filter(pk__in=[u.pk for u in reps + staff], **unusable).update(password=hashed)
    since = (datetime.now(UTC) - timedelta(days=3)).date()
    vehicle = {
        (level.sales_rep_id, level.product_id): level.quantity
        for level in StockLevel.objects.filter(sales_rep__in=reps, state="FULL")
    }
    out = []
    for i, rep in enumerate(reps):
        depot = depots[i % len(depots)]
        top_up = [
            {"product": p, "quantity": VEHICLE_STOCK - have}
            for p in products
            if (have := vehicle.get((rep.pk, p.pk), 0)) < VEHICLE_STOCK
        ]
        if top_up:
            distribution_post(
                sales_rep=rep, depot=depot, kind="COLLECTION", lines=top_up, actor=rep
            )
        customers, changes = {"CASH": [], "CREDIT": []}, []
        for c in range(5):
            code, payment_type = f"BL{i:03d}{c}", "CASH" if c < 3 else "CREDIT"
            customer = Customer.objects.filter(code=code).first()
            if customer is None:
                customer = customer_create(
                    code=code,
                    name=f"Load customer {i}-{c}",
                    depot=depot,
                    actor=admin,
                    payment_type=payment_type,
                )
                changes += [
                    RateChange(customer, p, RATES[p.code], effective_from=since) for p in products
                ]
            customers[payment_type].append(code)
        if changes:
            rates_set(changes=changes, actor=admin)
        out.append(
            {
                "username": rep.username,
                "password": dataset.PASSWORD,
                "token": _token_for(rep.username),
                "cash": customers["CASH"],
                "credit": customers["CREDIT"],
            }
        )
    return {
        "handhelds": out,
        "office": [{"username": u.username, "password": dataset.PASSWORD} for u in staff],
    }


# --- the server and the load ---------------------------------------------------------------


class Server:
    """gunicorn with `workers` sync workers on a free port of 127.0.0.1, the benchmark's
    environment (DATABASE_URL, REDIS_URL, DEBUG) and the API's throttles raised."""

    def __init__(self, workers: int):
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            self.port = free.getsockname()[1]
        env = {
            **os.environ,
            "API_WRITE_RATE": "1000000/minute",
            "API_TOKEN_RATE": "100000/minute",
            "SECURE_SSL_REDIRECT": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
        }
        self.process = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "hsh_admin.wsgi:application",
                *("--bind", f"127.0.0.1:{self.port}", "--workers", str(workers)),
                *("--timeout", "120", "--backlog", "2048", "--log-level", "warning"),
            ],
            env=env,
            cwd=ROOT,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit("gunicorn did not start within 60 s")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def warm(self, rounds: int, token: str):
        """Each worker imports the URLs, the admin and DRF on its first requests (seconds
        each on 2 busy cores): `rounds` waves of concurrent requests before any timing."""

        def get(path):
            request = urllib.request.Request(self.url + path)  # noqa: S310
            request.add_header("Authorization", f"Bearer {token}")
            urllib.request.urlopen(request, timeout=120).read()  # noqa: S310

        paths = ["/healthz", "/admin/login/", "/api/customers/"] * rounds
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(get, paths))

    def drain(self, limit: float = 300):
        """Wait for the requests locust left queued to be served: /healthz answers fast."""
        deadline = time.time() + limit
        while time.time() < deadline:
            started = time.perf_counter()
            urllib.request.urlopen(f"{self.url}/healthz", timeout=limit).read()  # noqa: S310
            if time.perf_counter() - started < 0.3:
                return

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the workers have used so far."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        ticks = 0
        for child in children:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _locust(url, accounts_path, users, seconds, workdir, *, serial=False) -> tuple[dict, dict]:
    """Run locust headless; (per-endpoint rows of its CSV, every request of the run)."""
    tag = "baseline" if serial else "load"
    prefix, everything = workdir / tag, workdir / f"{tag}-all.json"
    env = {
        **os.environ,
        "BENCH_LOAD_ACCOUNTS": str(accounts_path),
        "BENCH_LOAD_ALL": str(everything),
        "BENCH_LOAD_SERIAL": "1" if serial else "",
    }
    command = [
        str(Path(sys.executable).with_name("locust")),
        *("-f", str(ROOT / "bench" / "locustfile.py"), "--headless"),
        *("-u", str(users), "-r", "20", "-t", f"{seconds + users // 20 + 1}s"),
        *("--host", url, "--csv", str(prefix), "--reset-stats", "--only-summary"),
        *("--loglevel", "WARNING", "--stop-timeout", "10"),
    ]
    log = workdir / f"{tag}.log"  # locust's own summary and warnings
    with log.open("w") as out:
        subprocess.run(command, env=env, cwd=ROOT, check=False, stdout=out, stderr=out)  # noqa: S603
    if not Path(f"{prefix}_stats.csv").exists():
        raise SystemExit(f"locust wrote no statistics:\n{log.read_text()[-3000:]}")
    with open(f"{prefix}_stats.csv", newline="") as handle:
        rows = {row["Name"]: row for row in csv.DictReader(handle)}
    return rows, json.loads(everything.read_text()) if everything.exists() else {}


def _token_for(username: str) -> str:
    from core.auth import VersionedRefreshToken
    from core.models import User

    return str(VersionedRefreshToken.for_user(User.objects.get(username=username)).access_token)


def _checks() -> dict:
    from io import StringIO

    from django.core.management import call_command

    checks = {}
    for command in ("check_stock", "check_money", "verify_audit"):
        out = StringIO()
        started = time.perf_counter()
        try:
            call_command(command, stdout=out, stderr=out)
            result = "clean"
        except SystemExit:
            result = "FAILED: " + out.getvalue()[-300:]
        checks[command] = f"{result} ({time.perf_counter() - started:.0f} s)"
    return checks


def _ms(row, column) -> float:
    return float(row[column] or 0)


def _table(loaded: dict, baseline: dict, everything: dict) -> list[dict]:
    rows = []
    for name, row in loaded.items():  # the endpoints, then "Aggregated": all of them
        base = baseline.get(name) if name != "Aggregated" else None
        unloaded = _ms(base, "50%") if base else None
        rows.append(
            {
                "endpoint": "all (after ramp-up)" if name == "Aggregated" else name,
                "requests": row["Request Count"],
                "req_s": f"{float(row['Requests/s']):.2f}",
                "p50_ms": row["50%"],
                "p95_ms": row["95%"],
                "p99_ms": row["99%"],
                "failures": row["Failure Count"],
                "unloaded_p50_ms": base["50%"] if base else "-",
                "p95_over_unloaded": f"{_ms(row, '95%') / unloaded:.1f}x" if unloaded else "-",
            }
        )
    for name, entry in sorted(everything.items()):
        if name not in loaded:  # the sign-ins and downloads of the ramp-up
            times = sorted(entry["times"])
            rows.append(
                {
                    "endpoint": f"{name} (during ramp-up)",
                    "requests": entry["count"],
                    "p50_ms": f"{statistics.median(times):.0f}" if times else "-",
                    "p95_ms": f"{times[int(0.95 * (len(times) - 1))]:.0f}" if times else "-",
                    "failures": entry["failures"],
                }
            )
    return rows


def _markdown(rows: list[dict]) -> str:
    columns = ["endpoint", "requests", "req_s", "p50_ms", "p95_ms", "p99_ms", "failures"]
    columns += ["unloaded_p50_ms", "p95_over_unloaded"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def run(args):
    from bench import dataset

    dataset.require_postgresql()
    dataset.ensure(args.rows)
    handhelds, office = max(args.load_users, 1), max(args.load_users // 10, 1)
    print(f"   [setup] {handhelds} handhelds, {office} office users", flush=True)
    started = time.perf_counter()
    accounts = _setup(handhelds, office)
    print(f"   [setup] done in {time.perf_counter() - started:.0f} s", flush=True)
    with tempfile.TemporaryDirectory(prefix="hsh-load-") as tmp:
        workdir = Path(tmp)
        accounts_path = workdir / "accounts.json"
        accounts_path.write_text(json.dumps(accounts))
        server = Server(args.load_workers)
        try:
            token = _token_for(accounts["handhelds"][0]["username"])
            server.warm(rounds=2 * args.load_workers, token=token)
            print(f"   [load] {handhelds + office} users for {args.load_seconds} s", flush=True)
            cpu = server.cpu_seconds()
            loaded, everything = _locust(
                server.url, accounts_path, handhelds + office, args.load_seconds, workdir
            )
            server.drain()
            cpu = server.cpu_seconds() - cpu
            print("   [baseline] 1 handheld + 1 office user, one request at a time", flush=True)
            baseline, _ = _locust(
                server.url, accounts_path, 2, args.load_baseline_seconds, workdir, serial=True
            )
        finally:
            server.stop()
    rows = _table(loaded, baseline, everything)
    print(_markdown(rows), flush=True)
    served = sum(e["count"] for e in everything.values())
    per = 1000 * cpu / max(served, 1)  # the queued requests locust gave up on count too
    rows.append({"workers_cpu_s": f"{cpu:.0f}", "requests": served, "cpu_ms_each": f"{per:.0f}"})
    total = loaded.get("Aggregated", {})
    rate = float(total.get("Requests/s", 0))
    failed = sum(entry["failures"] for entry in everything.values())
    sale, dashboard = loaded.get(SALE), loaded.get(DASHBOARD)
    sale_p95 = _ms(sale, "95%") if sale else float("inf")
    dashboard_p95 = _ms(dashboard, "95%") if dashboard else float("inf")
    targets = [
        (f"sale POST p95 < {TARGET_SALE_P95} ms", f"{sale_p95:.0f} ms", sale_p95 < TARGET_SALE_P95),
        (
            f"dashboard p95 < {TARGET_DASHBOARD_P95} ms",
            f"{dashboard_p95:.0f} ms",
            dashboard_p95 < TARGET_DASHBOARD_P95,
        ),
        (f"{TARGET_RATE} requests/s (at least 27)", f"{rate:.1f}", rate >= 0.9 * TARGET_RATE),
        (
            "no failed request (ramp-up included)",
            f"{failed} of {served}",
            failed == 0 and bool(everything),
        ),
    ]
    rows += [{"target": t, "measured": m, "met": met} for t, m, met in targets]
    print("   [checks] check_stock, check_money, verify_audit", flush=True)
    rows.append({"invariants": "after the run", **_checks()})
    return rows
