"""A representative's day through the field API, over HTTP to gunicorn.

- sync_day: one day of 80 documents (the morning load sheet, 60 sales, 12 payments,
  6 cylinder returns, the evening empty return) sent as one POST /api/sync/, against the
  same 80 posted one by one to their own endpoints (with an Idempotency-Key each), by
  one handheld over one kept-alive connection. Targets: the sync under 2 s, and at
  least 3x faster than one by one.
- sync_fleet: 100 representatives syncing a day each at the same moment against 8
  gunicorn worker processes. Target: all 8,000 documents posted within 90 s, none lost,
  none twice; then check_stock, check_money and verify_audit run clean.

The server is a real gunicorn (sync workers) started by the benchmark on 127.0.0.1 with
the benchmark's environment (DATABASE_URL, REDIS_URL, keys), the API's write throttle
raised (API_WRITE_RATE, API_TOKEN_RATE: a benchmark is not a client to slow down).
Setup (idempotent) goes through the services: a depot BENCHSYNC with stock, per
representative 8 customers (4 cash, 4 credit) with rates.
"""

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path

from django.utils import timezone

from bench import dataset

NAME = "sync_day"
PORT = 8765
TARGET_SYNC_SECONDS = 2.0
TARGET_RATIO = 3.0
FLEET_TARGET_SECONDS = 90.0
ENDPOINTS = {
    "sale": "/api/sales/",
    "payment": "/api/payments/",
    "distribution": "/api/distributions/",
    "return": "/api/returns/",
}


def add_arguments(parser):
    group = parser.add_argument_group(NAME)
    group.add_argument("--sync-rounds", type=int, default=3, help="timed rounds per side (3)")
    group.add_argument(
        "--fleet-reps", type=int, default=100, help="representatives syncing at once (100)"
    )
    group.add_argument("--fleet-workers", type=int, default=8, help="gunicorn workers (8)")
    group.add_argument("--skip-fleet", action="store_true", help="run sync_day only")


# --- setup -------------------------------------------------------------------------------


def _setup(reps: int):
    """`reps` representatives of depot BENCHSYNC, each with 8 priced customers."""
    from core.models import Depot, User
    from core.services import user_create
    from sales.models import Customer
    from sales.services import rate_set
    from stock.models import Product, StockLevel
    from stock.services import stock_receive

    admin = dataset.actors()
    depot, _ = Depot.objects.get_or_create(code="BENCHSYNC", defaults={"name": "Sync bench"})
    products = [Product.objects.get(code="12.7KG"), Product.objects.get(code="9KG")]
    for product in products:
        level = StockLevel.objects.filter(
            depot=depot, sales_rep__isnull=True, product=product, state="FULL"
        )
        if (level.values_list("quantity", flat=True).first() or 0) < 100_000:
            stock_receive(depot=depot, product=product, quantity=1_000_000, actor=admin)
    since = timezone.now() - timedelta(days=3)
    setups = []
    for i in range(reps):
        username = f"bench-sync-{i:03d}"
        rep = User.objects.filter(username=username).first() or user_create(
            username=username,
            password=dataset.PASSWORD,
            role="SALES",
            depots=[depot],
            vehicle_no=f"BS-{i:03d}",
            actor=admin,
        )
        customers = []
        for c in range(8):
            payment_type = "CASH" if c < 4 else "CREDIT"
            customer, created = Customer.objects.get_or_create(
                code=f"BT{i:03d}{c}",
                defaults={
                    "name": f"Sync customer {i}-{c}",
                    "depot": depot,
                    "payment_type": payment_type,
                },
            )
            if created:
                for product, rate in zip(products, ("3000.00", "2200.00"), strict=True):
                    rate_set(
                        customer=customer,
                        product=product,
                        rate=Decimal(rate),
                        actor=admin,
                        effective_from=since,  # in force for the whole day synced
                    )
            customers.append(customer.code)
        setups.append((rep.username, customers))
    return setups


def a_day(customers: list[str], tag: str) -> list[dict]:
    """The 80 documents of one day for one representative, client ids tagged `tag`."""
    now = timezone.now()

    def at(minutes_ago: int) -> str:
        return (now - timedelta(minutes=minutes_ago)).isoformat()

    def doc(doc_type: str, n, minutes_ago: int, **fields) -> dict:
        return {
            "client_id": f"{tag}-{doc_type}-{n}",
            "type": doc_type,
            "occurred_at": at(minutes_ago),
            **fields,
        }

    lines = [{"product": "12.7KG", "quantity": 40}, {"product": "9KG", "quantity": 40}]
    docs = [doc("distribution", "load", 700, kind="COLLECTION", lines=lines)]
    for i in range(60):
        product = "12.7KG" if i % 2 == 0 else "9KG"
        empties = 0 if i % 3 == 0 else 1
        line = {"product": product, "quantity": 1, "empties_returned": empties}
        docs.append(doc("sale", i, 600 - i, customer=customers[i % 8], lines=[line]))
    for i in range(12):
        customer = customers[4 + i % 4]
        docs.append(doc("payment", i, 400 - i, customer=customer, amount="100.00"))
    for i, index in enumerate((0, 3, 6, 1, 4, 7)):  # customers left holding a cylinder
        product = "12.7KG" if i % 2 == 0 else "9KG"
        line = {"product": product, "quantity": 1}
        docs.append(doc("return", i, 300 - i, customer=customers[index], lines=[line]))
    empties = [{"product": "12.7KG", "quantity": 10}]
    docs.append(doc("distribution", "empties", 60, kind="EMPTY_RETURN", lines=empties))
    return docs


# --- the server --------------------------------------------------------------------------


class Server:
    """gunicorn on 127.0.0.1:PORT with `workers` sync workers, stopped on exit."""

    def __init__(self, workers: int):
        env = dict(os.environ)
        env.update(
            {
                "API_WRITE_RATE": "1000000/minute",
                "API_TOKEN_RATE": "100000/minute",
                "SECURE_SSL_REDIRECT": "0",
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
            }
        )
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.process = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
            [
                gunicorn,
                "hsh_admin.wsgi:application",
                "--bind",
                f"127.0.0.1:{PORT}",
                "--workers",
                str(workers),
                "--timeout",
                "120",
                "--backlog",
                "2048",
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=Path(__file__).resolve().parent.parent,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            self.stop()
            raise SystemExit("gunicorn did not start within 60 s")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


class Handheld:
    """One representative's handheld: a token and one kept-alive connection."""

    def __init__(self, username: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=300)
        status, body = self.request(
            "POST", "/api/auth/token/", {"username": username, "password": dataset.PASSWORD}
        )
        if status != 200:
            raise SystemExit(f"no token for {username}: {status} {body}")
        self.token = body["access"]

    def request(self, method: str, path: str, body=None, headers=None):
        sent = {"Content-Type": "application/json", **(headers or {})}
        if getattr(self, "token", None):
            sent["Authorization"] = f"Bearer {self.token}"
        self.conn.request(method, path, json.dumps(body) if body is not None else None, sent)
        response = self.conn.getresponse()
        return response.status, json.loads(response.read() or b"null")

    def one_by_one(self, docs: list[dict]) -> list[str]:
        numbers = []
        for document in docs:
            body = {k: v for k, v in document.items() if k not in ("client_id", "type")}
            status, answer = self.request(
                "POST",
                ENDPOINTS[document["type"]],
                body,
                {"Idempotency-Key": document["client_id"]},
            )
            if status != 201:
                raise SystemExit(f"{document['client_id']} refused: {status} {answer}")
            numbers.append(answer.get("number") or answer.get("distribution_no"))
        return numbers

    def sync(self, docs: list[dict]) -> list[dict]:
        status, answer = self.request("POST", "/api/sync/", {"documents": docs})
        if status != 200:
            raise SystemExit(f"sync refused: {status} {answer}")
        return answer["results"]


# --- the benchmarks ----------------------------------------------------------------------


def _day(setups, rounds: int) -> list[dict]:
    username, customers = setups[0]
    handheld = Handheld(username)
    one_by_one, synced = [], []
    for n in range(rounds):
        for side in ("sync", "one") if n % 2 else ("one", "sync"):
            docs = a_day(customers, f"{side}-{uuid.uuid4().hex[:10]}")
            started = time.perf_counter()
            if side == "one":
                handheld.one_by_one(docs)
                one_by_one.append(time.perf_counter() - started)
            else:
                results = handheld.sync(docs)
                synced.append(time.perf_counter() - started)
                refused = [r for r in results if r["status"] != "posted"]
                if refused:
                    raise SystemExit(f"sync did not post everything: {refused[:3]}")
    one, sync = statistics.median(one_by_one), statistics.median(synced)
    ratio = one / sync
    met = sync < TARGET_SYNC_SECONDS and ratio >= TARGET_RATIO
    return [
        {"case": "80 documents one by one", "seconds": f"{one:.3f}", "rounds": rounds},
        {"case": "80 documents in one sync", "seconds": f"{sync:.3f}", "rounds": rounds},
        {
            "case": "ratio",
            "sync_faster_by": f"{ratio:.2f}x",
            "target": f"<{TARGET_SYNC_SECONDS}s and >={TARGET_RATIO}x",
            "met": met,
        },
    ]


def _fleet(setups) -> list[dict]:
    from django.core.management import call_command

    from sales.models import CylinderReturn, Payment, Transaction
    from stock.models import Distribution

    def counts():
        return (
            Transaction.objects.count()
            + Payment.objects.count()
            + CylinderReturn.objects.count()
            + Distribution.objects.count()
        )

    handhelds = [(Handheld(username), customers) for username, customers in setups]
    days = [a_day(customers, f"fleet-{uuid.uuid4().hex[:10]}") for _, customers in handhelds]
    before = counts()
    results: list[list[dict] | Exception] = [[] for _ in handhelds]
    gate = threading.Barrier(len(handhelds) + 1)

    def run(index: int):
        gate.wait()
        try:
            results[index] = handhelds[index][0].sync(days[index])
        except BaseException as exc:  # reported below, not lost
            results[index] = exc if isinstance(exc, Exception) else RuntimeError(str(exc))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(handhelds))]
    for thread in threads:
        thread.start()
    gate.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    failed = [r for r in results if isinstance(r, Exception)]
    flat = [r for rs in results if not isinstance(rs, Exception) for r in rs]
    posted = [r for r in flat if r["status"] == "posted"]
    numbers = [r["number"] for r in posted]
    expected = sum(len(day) for day in days)
    added = counts() - before
    # Sent again: every document replays, nothing new posts.
    again = handhelds[0][0].sync(days[0])
    replayed = all(r["status"] == "replayed" for r in again) and counts() - before == added
    checks = {}
    for command in ("check_stock", "check_money", "verify_audit"):
        out = StringIO()
        try:
            call_command(command, stdout=out, stderr=out)
            checks[command] = "clean"
        except SystemExit:
            checks[command] = "FAILED: " + out.getvalue()[-300:]
    met = (
        not failed
        and len(posted) == expected == added
        and len(set(numbers)) == len(numbers)
        and seconds <= FLEET_TARGET_SECONDS
        and replayed
        and all(v == "clean" for v in checks.values())
    )
    return [
        {
            "case": f"{len(handhelds)} representatives x 80 documents at once",
            "seconds": f"{seconds:.1f}",
            "documents_per_s": f"{expected / seconds:.0f}",
            "posted": len(posted),
            "expected": expected,
            "rows_added": added,
            "duplicates": len(numbers) - len(set(numbers)),
            "failed_requests": len(failed),
        },
        {"case": "resent", "all_replayed": replayed, **checks},
        {"case": "target", "within": f"{FLEET_TARGET_SECONDS:.0f}s", "met": met},
    ]


def run(args):
    dataset.require_postgresql()
    reps = 1 if args.skip_fleet else max(args.fleet_reps, 1)
    print(f"   [setup] {reps} representatives with 8 customers each", flush=True)
    setups = _setup(reps)
    rows = []
    server = Server(workers=2)
    try:
        rows += _day(setups, args.sync_rounds)
    finally:
        server.stop()
    if not args.skip_fleet:
        server = Server(workers=args.fleet_workers)
        try:
            rows += _fleet(setups)
        finally:
            server.stop()
    return rows
