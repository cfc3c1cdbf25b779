"""A throwaway PostgreSQL cluster of the tests' own, and a real server in front of it.

The fault and backup drills (test_fault_postgres, test_backup_drill) restart PostgreSQL
and dump it: never the shared cluster on 5432. This module gives them

- `Cluster`: initdb (as the postgres user) into a temporary directory, served on
  127.0.0.1:5499 by `pg_ctl`; restarted with `pg_ctl stop -m fast` then `start`; removed
  whole (stopped, its directory deleted) when the test session ends. One per session,
  shared by both drills (`shared_cluster`): it holds a migrated, seeded template database
  that each test clones in a second (`CREATE DATABASE ... TEMPLATE`), as migrating takes
  a while.
- `Server`: gunicorn (sync workers, as in production) on a free port against one of its
  databases, Celery eager, the API's write throttle raised.
- `Poster`: threads posting sales over HTTP, each with its own Idempotency-Key, keeping
  every answer (or the lack of one).

`require()` skips a test, with the reason printed, when the cluster cannot be made (not
root, no initdb, port 5499 taken); under CI=true it fails instead, as conftest.py does
for a missing service.
"""

import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

PORT = 5499
TEMPLATE = "hsh_h3_template"
PASSWORD = "correct-horse-battery"
CUSTOMERS = 6
REPS = 3


def _bin_dir() -> Path | None:
    """The newest PostgreSQL server binaries (initdb, pg_ctl, pg_dump of that version)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=_version)
    return found[-1].parent if found else None


def _version(path: Path) -> float:
    try:
        return float(path.parent.parent.name)
    except ValueError:
        return 0.0


def missing() -> str | None:
    """Why no cluster of our own can be made here, or None."""
    if os.geteuid() != 0:
        return "needs root (initdb and pg_ctl run as the postgres user): run as root, as CI does"
    if _bin_dir() is None:
        return "needs PostgreSQL's server binaries (initdb): apt-get install postgresql"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "needs the postgres system user: apt-get install postgresql"
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", PORT)) == 0:
            return f"port {PORT} is taken: the drills' own cluster needs it"
    return None


def require():
    reason = missing()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"CI runs everything, but this test {reason}", pytrace=False)
    pytest.skip(reason)


def _run(args, *, timeout=120, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own binaries, fixed arguments
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kwargs
    )


class Cluster:
    """initdb'd into a temporary directory; served on 127.0.0.1:PORT (trust auth)."""

    def __init__(self):
        self.bin = _bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="hsh_h3_pg_"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        shutil.chown(self.root, user="postgres")

    def _as_postgres(self, *args, timeout=120):
        done = _run(["runuser", "-u", "postgres", "--", *args], timeout=timeout)
        assert done.returncode == 0, f"{args[0]} failed: {done.stdout}{done.stderr}{self.tail()}"
        return done

    def init(self):
        initdb = self.bin / "initdb"
        self._as_postgres(initdb, "-D", self.data, "-A", "trust", "-U", "postgres", "-N")

    def start(self):
        options = f"-p {PORT} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            self.bin / "pg_ctl", "-D", self.data, "-o", options, "-l", self.log, "-w", "start"
        )

    def stop(self, mode="fast"):
        self._as_postgres(self.bin / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def restart(self, *, down_seconds=1.0):
        """What a restart of the database server does to the application: every session
        ended (a fast shutdown), new connections refused for a moment, then back."""
        self.stop("fast")
        time.sleep(down_seconds)
        self.start()

    def running(self) -> bool:
        pg_ctl = self.bin / "pg_ctl"
        done = _run(["runuser", "-u", "postgres", "--", pg_ctl, "-D", self.data, "status"])
        return done.returncode == 0

    def destroy(self):
        """Stop the server (immediately; killed if pg_ctl cannot) and delete everything."""
        try:
            if self.data.exists() and self.running():
                try:
                    self.stop("immediate")
                except AssertionError:
                    pid = int((self.data / "postmaster.pid").read_text().split()[0])
                    os.kill(pid, signal.SIGQUIT)
                    time.sleep(1)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def tail(self) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n--- postgres log ---\n" + text[-2000:] if text else ""

    # --- databases ------------------------------------------------------------------

    def url(self, db: str) -> str:
        return f"postgres://postgres@127.0.0.1:{PORT}/{db}"

    def query(self, sql: str, params=(), *, db: str = "postgres") -> list[tuple]:
        with psycopg.connect(self.url(db), autocommit=True) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def createdb(self, name: str, template: str | None = None):
        self.dropdb(name)
        suffix = f" TEMPLATE {template}" if template else ""
        self.query(f'CREATE DATABASE "{name}"{suffix}')

    def dropdb(self, name: str):
        self.query(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def env(self, db: str, **extra) -> dict:
        """The application's environment against `db`: Celery eager (no REDIS_URL), the
        API's throttles out of the way, the test session's keys."""
        return {
            **os.environ,
            "DATABASE_URL": self.url(db),
            "DEBUG": "1",
            "ENV_FILE": "",
            "REDIS_URL": "",
            "SECRET_KEY": settings.SECRET_KEY,
            "AUDIT_HMAC_KEY": settings.AUDIT_HMAC_KEY,
            "AUDIT_ANCHOR_EMAILS": "",
            "EMAIL_URL": "consolemail://",
            "SECURE_SSL_REDIRECT": "False",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "API_WRITE_RATE": "1000000/minute",
            "API_TOKEN_RATE": "100000/minute",
            "LOG_LEVEL": "WARNING",
            **extra,
        }

    def manage(self, db: str, *args, timeout=600) -> subprocess.CompletedProcess:
        """`manage.py ARGS` against `db`, in a process of its own."""
        return _run(
            [sys.executable, "manage.py", *args],
            env=self.env(db),
            cwd=settings.BASE_DIR,
            timeout=timeout,
        )

    def tool(self, name: str, *args, timeout=300) -> subprocess.CompletedProcess:
        """pg_dump, pg_restore... of the cluster's own version, against the cluster."""
        common = ["-h", "127.0.0.1", "-p", PORT, "-U", "postgres"]
        return _run([self.bin / name, *common, *args], timeout=timeout)

    def clone(self, name: str) -> str:
        """A fresh copy of the migrated, seeded template database."""
        self.createdb(name, template=TEMPLATE)
        return name


_CLUSTER = pytest.StashKey["Cluster"]()


def shared_cluster(config) -> Cluster:
    """The session's cluster with its template database, made on first use; stopped and
    removed when the session ends (also when making it failed half-way)."""
    cluster = config.stash.get(_CLUSTER, None)
    if cluster is not None:
        return cluster
    require()
    cluster = Cluster()
    config.add_cleanup(cluster.destroy)
    cluster.init()
    cluster.start()
    cluster.createdb(TEMPLATE)
    for args in (
        ("migrate", "--noinput", "-v0"),
        ("shell", "-c", "from core.tests.pgcluster import seed; seed()"),
    ):
        started = time.monotonic()
        done = cluster.manage(TEMPLATE, *args)
        assert done.returncode == 0, f"{args[0]} failed:\n{done.stdout}{done.stderr}"
        print(f"[pgcluster] {args[0]} of {TEMPLATE}: {time.monotonic() - started:.1f} s")
    config.stash[_CLUSTER] = cluster
    return cluster


def seed():
    """Run inside the application (manage.py shell): a depot H3, head office, REPS
    representatives each with 400 full 12.7KG cylinders on their vehicle, and CUSTOMERS
    customers (cash and credit, no limit) at 3000.00 a cylinder. Through the services."""
    from decimal import Decimal

    from core.services import depot_create, user_bootstrap, user_create
    from sales.services import customer_create, rate_set
    from stock.models import Product
    from stock.services import distribution_create, stock_receive

    admin = user_bootstrap(username="h3office", password=PASSWORD, role="ADMIN")
    depot = depot_create(code="H3", name="Drill depot", actor=admin)
    cylinder = Product.objects.get(code="12.7KG")
    stock_receive(depot=depot, product=cylinder, quantity=REPS * 400, actor=admin)
    for n in range(REPS):
        rep = user_create(
            username=f"h3rep{n}",
            password=PASSWORD,
            role="SALES",
            depots=[depot],
            vehicle_no=f"H3-{n}",
            actor=admin,
        )
        distribution_create(
            sales_rep=rep,
            depot=depot,
            product=cylinder,
            quantity=400,
            kind="COLLECTION",
            actor=admin,
        )
    for n in range(CUSTOMERS):
        customer = customer_create(
            code=f"H3C{n}",
            name=f"Drill customer {n}",
            depot=depot,
            payment_type="CASH" if n % 2 == 0 else "CREDIT",
            actor=admin,
        )
        rate_set(customer=customer, product=cylinder, rate=Decimal("3000.00"), actor=admin)


# --- the server --------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn with `workers` sync workers against `db` of `cluster`, on a free port."""

    def __init__(self, cluster: Cluster, db: str, *, workers=3):
        self.port = _free_port()
        self.log = cluster.root / f"gunicorn-{db}.log"
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own gunicorn
                [
                    gunicorn,
                    "hsh_admin.wsgi:application",
                    f"--bind=127.0.0.1:{self.port}",
                    f"--workers={workers}",
                    "--timeout=60",
                    "--graceful-timeout=5",
                    "--log-level=warning",
                ],
                env=cluster.env(db),
                cwd=settings.BASE_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"gunicorn exited:\n{self.output()}"
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"gunicorn did not start within 60 s:\n{self.output()}")

    def request(self, method, path, body=None, headers=None, timeout=60):
        """(status, headers, json body) of one request on a connection of its own."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            sent = {"Content-Type": "application/json", **(headers or {})}
            conn.request(method, path, json.dumps(body) if body is not None else None, sent)
            response = conn.getresponse()
            raw = response.read()
            try:
                data = json.loads(raw or b"null")
            except ValueError:
                data = raw.decode(errors="replace")[:500]
            return response.status, dict(response.getheaders()), data
        finally:
            conn.close()

    def token(self, username: str) -> str:
        status, _, body = self.request(
            "POST", "/api/auth/token/", {"username": username, "password": PASSWORD}
        )
        assert status == 200, f"no token for {username}: {status} {body}"
        return body["access"]

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- posting sales from threads ------------------------------------------------------


class Poster:
    """`threads` handhelds posting one-cylinder sales, each with a key of its own, until
    stopped. `answers[key]` is every (status or the exception's repr, monotonic time)
    that key got; `requests[key]` what was sent, and by whom."""

    def __init__(self, server: Server, *, threads=6, tag="h3"):
        self.server = server
        self.tokens = [server.token(f"h3rep{n}") for n in range(REPS)]
        self.threads = threads
        self.tag = tag
        self.requests: dict[str, tuple[str, dict]] = {}
        self.answers: dict[str, list] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.workers: list[threading.Thread] = []

    def post(self, key: str) -> tuple[int | str, dict]:
        token, body = self.requests[key]
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
        try:
            status, response_headers, _ = self.server.request("POST", "/api/sales/", body, headers)
        except (OSError, http.client.HTTPException) as exc:  # no answer at all
            status, response_headers = repr(exc), {}
        with self.lock:
            self.answers.setdefault(key, []).append((status, time.monotonic()))
        return status, response_headers

    def _loop(self, index: int):
        n = 0
        while not self.stopping.is_set():
            key = f"{self.tag}-{index}-{n}"
            body = {
                "customer": f"H3C{(index + n) % CUSTOMERS}",
                "lines": [{"product": "12.7KG", "quantity": 1, "empties_returned": 1}],
            }
            with self.lock:
                self.requests[key] = (self.tokens[index % REPS], body)
            self.post(key)
            n += 1

    def start(self):
        for index in range(self.threads):
            worker = threading.Thread(target=self._loop, args=(index,), daemon=True)
            self.workers.append(worker)
            worker.start()

    def stop(self):
        self.stopping.set()
        for worker in self.workers:
            worker.join(timeout=120)
        assert not any(w.is_alive() for w in self.workers), "a posting thread hung"

    def count(self, status, since=0.0) -> int:
        with self.lock:
            return sum(
                1 for seen in self.answers.values() for s, at in seen if s == status and at >= since
            )

    def wait_for(self, status, count, *, since=0.0, timeout=60.0):
        deadline = time.monotonic() + timeout
        while self.count(status, since) < count:
            assert time.monotonic() < deadline, f"fewer than {count} answers {status} in time"
            time.sleep(0.05)
