"""A working day's load on the API and the admin (issue 19), for locust.

Run by `python -m bench --only load` (bench/load.py), which prepares the accounts and
writes the file that BENCH_LOAD_ACCOUNTS names: the handhelds' usernames, passwords,
access tokens and customers, and the office users' logins. By hand, against a server
of your own after one `--only load` run has written that file:

    BENCH_LOAD_ACCOUNTS=/tmp/accounts.json .venv/bin/locust -f bench/locustfile.py \
        --headless -u 220 -r 20 -t 2m --host http://127.0.0.1:8766

- Handheld (weight 10: 200 of 220 users): a representative's handheld. Signed in
  (a JWT from /api/auth/token/, or the one load.py issued ahead, as a handheld signed in
  since the morning), it downloads its customers once, then posts sales (one in seven
  requests on credit), payments from its credit customers and, one request in ten, a
  sync of a few documents captured offline; every POST carries an Idempotency-Key.
- Office (weight 1: 20 of 220): head office and depot managers in the admin, signed in
  with the login form (session cookie + CSRF token), opening the dashboard, the sales
  list, the stock ledger and the sales summary report.

Each user is paced (constant_throughput) so that 200 handhelds and 20 office users make
about 30 requests/s: a handheld one request every 7.4 s, an office user a page every
6.7 s. Requests are named by endpoint so locust's statistics group them.
"""

import itertools
import json
import os
import random
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from locust import FastHttpUser, HttpUser, constant, constant_throughput, events, task

HANDHELD_PACE = float(os.environ.get("BENCH_LOAD_HANDHELD_PACE", "0.135"))  # requests/s
OFFICE_PACE = float(os.environ.get("BENCH_LOAD_OFFICE_PACE", "0.15"))
# The baseline: one handheld and one office user, each request as soon as the last ends.
SERIAL = bool(os.environ.get("BENCH_LOAD_SERIAL"))
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _accounts() -> dict:
    path = os.environ.get("BENCH_LOAD_ACCOUNTS")
    if not path:
        raise SystemExit("Set BENCH_LOAD_ACCOUNTS (written by `python -m bench --only load`).")
    return json.loads(Path(path).read_text())


ACCOUNTS = _accounts()
_handhelds = itertools.cycle(ACCOUNTS["handhelds"])
_office = itertools.cycle(ACCOUNTS["office"])
_everything: dict[str, dict] = {}  # every request of the run, ramp-up included


@events.request.add_listener
def _record(name, response_time, exception, **kwargs):
    entry = _everything.setdefault(name, {"count": 0, "failures": 0, "times": []})
    entry["count"] += 1
    entry["failures"] += exception is not None
    entry["times"].append(round(response_time, 1))


@events.quitting.add_listener
def _write(**kwargs):
    if path := os.environ.get("BENCH_LOAD_ALL"):
        Path(path).write_text(json.dumps(_everything))


# --- the documents a handheld posts ------------------------------------------------------

PRODUCTS = ("12.7KG", "9KG")


def _key() -> str:
    return f"load-{uuid.uuid4().hex}"


def sale_body(rng, cash: list[str], credit: list[str], held: dict | None = None) -> dict:
    """A sale of 1 or 2 cylinders, one in seven to a credit customer; two in three take
    back as many empties as the customer holds (held: {"CODE/PRODUCT": count}, updated;
    None: none taken back)."""
    customer = rng.choice(credit) if rng.random() < 1 / 7 else rng.choice(cash)
    product = rng.choice(PRODUCTS)
    quantity = rng.choice((1, 1, 2))
    key = f"{customer}/{product}"
    holding = (held or {}).get(key, 0)
    empties = min(quantity, holding) if rng.random() < 2 / 3 else 0
    if held is not None:
        held[key] = holding + quantity - empties
    line = {"product": product, "quantity": quantity, "empties_returned": empties}
    return {"customer": customer, "lines": [line]}


def payment_body(rng, credit: list[str]) -> dict:
    return {"customer": rng.choice(credit), "amount": "100.00", "method": "CASH"}


def sync_body(rng, cash: list[str], credit: list[str]) -> dict:
    """What a handheld captured offline over the last hour: 3 sales (no empties back:
    the holdings they would need are the server's to know) and a payment, in order,
    each with its client_id (its idempotency key) and occurred_at."""
    now = datetime.now(UTC)
    docs = [{"type": "sale", **sale_body(rng, cash, credit)} for _ in range(3)]
    docs.append({"type": "payment", **payment_body(rng, credit)})
    for i, doc in enumerate(docs):
        doc["client_id"] = _key()
        doc["occurred_at"] = (now - timedelta(minutes=50 - 10 * i)).isoformat()
    return {"documents": docs}


# --- the users ----------------------------------------------------------------------------


class Handheld(FastHttpUser):
    weight = 10
    fixed_count = 1 if SERIAL else 0
    wait_time = constant(0) if SERIAL else constant_throughput(HANDHELD_PACE)

    def on_start(self):
        account = next(_handhelds)
        self.cash, self.credit = account["cash"], account["credit"]
        self.rng = random.Random()
        token = account.get("token")
        if not token:
            with self.client.post(
                "/api/auth/token/",
                json={"username": account["username"], "password": account["password"]},
                name="POST /api/auth/token/",
                catch_response=True,
            ) as response:
                if response.status_code != 200:
                    response.failure(f"no token: {response.status_code} {response.text[:200]}")
                    raise RuntimeError("no token")  # the user stops; locust reports it
                token = response.json()["access"]
        self.headers = {"Authorization": f"Bearer {token}"}
        # Its customers, with the cylinders each holds (the empties a sale may take back).
        answer = self.client.get(
            "/api/customers/", headers=self.headers, name="GET /api/customers/"
        ).json()
        self.held = {
            f"{customer['code']}/{holding['product']}": holding["quantity"]
            for customer in answer.get("results", [])
            for holding in customer["holdings"]
        }

    def _post(self, path: str, body: dict, name: str):
        headers = {**self.headers, "Idempotency-Key": _key()}
        with self.client.post(
            path, json=body, headers=headers, name=name, catch_response=True
        ) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {response.text[:300]}")

    @task(7)
    def sale(self):
        body = sale_body(self.rng, self.cash, self.credit, self.held)
        self._post("/api/sales/", body, "POST /api/sales/")

    @task(2)
    def payment(self):
        self._post("/api/payments/", payment_body(self.rng, self.credit), "POST /api/payments/")

    @task(1)
    def sync(self):
        # The client_ids are the documents' idempotency keys: no header.
        body = sync_body(self.rng, self.cash, self.credit)
        with self.client.post(
            "/api/sync/",
            json=body,
            headers=self.headers,
            name="POST /api/sync/",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:300]}")
                return
            refused = [r for r in response.json()["results"] if r["status"] != "posted"]
            if refused:
                response.failure(f"{len(refused)} documents not posted: {refused[0]}")


class Office(HttpUser):
    weight = 1
    fixed_count = 1 if SERIAL else 0
    wait_time = constant(0) if SERIAL else constant_throughput(OFFICE_PACE)

    def on_start(self):
        account = next(_office)
        self.rng = random.Random()
        page = self.client.get("/admin/login/", name="GET /admin/login/")
        match = CSRF_INPUT.search(page.text)
        with self.client.post(
            "/admin/login/?next=/admin/",
            data={
                "username": account["username"],
                "password": account["password"],
                "csrfmiddlewaretoken": match.group(1) if match else "",
                "next": "/admin/",
            },
            headers={"Referer": f"{self.host}/admin/login/"},
            name="POST /admin/login/",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302 or "sessionid" not in self.client.cookies:
                response.failure(f"login refused: {response.status_code}")

    def _page(self, path: str, name: str):
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200 or "/admin/login/" in response.url:
                response.failure(f"{response.status_code} at {response.url}")

    @task(3)
    def dashboard(self):
        self._page("/admin/", "GET /admin/ (dashboard)")

    @task(3)
    def sales_list(self):
        page = self.rng.choice(("", "?p=2", "?p=3"))
        self._page(f"/admin/sales/transaction/{page}", "GET /admin/sales/transaction/")

    @task(2)
    def ledger(self):
        page = self.rng.choice(("", "?p=2"))
        self._page(f"/admin/stock/stockmovement/{page}", "GET /admin/stock/stockmovement/")

    @task(1)
    def report(self):
        self._page("/admin/reports/sales-summary/", "GET /admin/reports/sales-summary/")
