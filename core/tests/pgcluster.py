"""A throwaway PostgreSQL cluster of the tests' own, and a real server in front of it.

For the drills that restart and dump PostgreSQL (test_fault_postgres, test_backup_drill),
never on the shared cluster (5432). `Cluster`: initdb into a temporary directory, served on
a free port of 127.0.0.1 by pg_ctl (restart: `stop -m fast`, then `start`). `shared_cluster`:
one per session, with a migrated, seeded template database each test clones in a second;
stopped and deleted when the session ends. `Server`: gunicorn against one of its
databases. `Poster`: threads posting sales over HTTP, each with an Idempotency-Key.
`require()` skips (the reason printed) when no cluster can be made here; under CI=true
it fails instead, as conftest.py does for a missing service.
"""

import http.client
import itertools
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

TEMPLATE = "hsh_h3_template"
PASSWORD = "correct-horse-battery"
# The application in the drills: Celery eager (no REDIS_URL), the API's throttles raised.
_APP_ENV = (
    "DEBUG=1 ENV_FILE= REDIS_URL= AUDIT_ANCHOR_EMAILS= EMAIL_URL=consolemail:// "
    "LOG_LEVEL=WARNING SECURE_SSL_REDIRECT=False ALLOWED_HOSTS=127.0.0.1,localhost "
    "API_WRITE_RATE=1000000/minute API_TOKEN_RATE=100000/minute"
)
APP_ENV = dict(item.split("=", 1) for item in _APP_ENV.split())
GUNICORN = ("hsh_admin.wsgi:application", "--preload", "--timeout=60", "--log-level=warning")
CUSTOMERS = 6
REPS = 3


def _bin_dir() -> Path | None:
    """The newest PostgreSQL server binaries (initdb, pg_ctl, pg_dump of that version)."""
    found = Path("/usr/lib/postgresql").glob("*/bin/initdb")
    newest = max(
        found, key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0, default=None
    )
    return newest.parent if newest else None


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
    return None


def require():
    if (reason := missing()) is not None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI runs everything, but this test {reason}", pytrace=False)
        pytest.skip(reason)


def _run(args, *, timeout=120, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own binaries, fixed arguments
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kwargs
    )


class Cluster:
    """initdb'd into a temporary directory; served on 127.0.0.1, on a free port of its
    own (trust auth)."""

    def __init__(self):
        self.port = _free_port()
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
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
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

    def url(self, db: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

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
        keys = {"SECRET_KEY": settings.SECRET_KEY, "AUDIT_HMAC_KEY": settings.AUDIT_HMAC_KEY}
        return {**os.environ, **APP_ENV, **keys, "DATABASE_URL": self.url(db), **extra}

    def manage(self, db: str, *args, timeout=600) -> subprocess.CompletedProcess:
        """`manage.py ARGS` against `db`, in a process of its own."""
        command = [sys.executable, "manage.py", *args]
        return _run(command, env=self.env(db), cwd=settings.BASE_DIR, timeout=timeout)

    def tool(self, name: str, *args, timeout=300) -> subprocess.CompletedProcess:
        """pg_dump, pg_restore... of the cluster's own version, against the cluster."""
        common = ["-h", "127.0.0.1", "-p", self.port, "-U", "postgres"]
        return _run([self.bin / name, *common, *args], timeout=timeout)

    def checks(self, db: str, *commands: list[str]) -> dict[str, list]:
        """{command: [exit status, output]} of management commands run in one process."""
        code = f"from core.tests.pgcluster import run_commands; run_commands({list(commands)!r})"
        return json.loads(_assert_ran(self.manage(db, "shell", "-c", code)).splitlines()[-1])


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
    started = time.monotonic()
    if not _copy_test_database(cluster):
        cluster.createdb(TEMPLATE)
        _assert_ran(cluster.manage(TEMPLATE, "migrate", "--noinput", "-v0"))
    _assert_ran(
        cluster.manage(TEMPLATE, "shell", "-c", "from core.tests.pgcluster import seed; seed()")
    )
    print(f"[pgcluster] template database ready in {time.monotonic() - started:.1f} s")
    config.stash[_CLUSTER] = cluster
    return cluster


def _assert_ran(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, f"{done.args[2:4]} failed:\n{done.stdout}{done.stderr}"
    return done.stdout


def _copy_test_database(cluster: Cluster) -> bool:
    """The template as a copy of the session's test database, already migrated (a test
    with serialized_rollback has just put back what the migrations wrote): seconds,
    against a minute or more for migrating again. False when it is not PostgreSQL or the
    copy fails (pg_dump older than its server...): then the caller migrates."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return False
    source = connection.settings_dict
    dump = cluster.root / "migrated.dump"
    host, port = source["HOST"] or "127.0.0.1", source["PORT"] or 5432
    where = ["-h", host, "-p", port, "-U", source["USER"] or "postgres", source["NAME"]]
    env = {**os.environ, "PGPASSWORD": source["PASSWORD"] or ""}
    dumped = _run([cluster.bin / "pg_dump", "-Fc", "-f", dump, *where], env=env)
    if dumped.returncode != 0:
        return False
    restore = ["--no-owner", "--no-privileges", "--exit-on-error", "-d", TEMPLATE, dump]
    restored = cluster.tool("pg_restore", *restore)
    dump.unlink(missing_ok=True)
    return restored.returncode == 0


def run_commands(commands: list[list[str]]):
    """Run inside the application (manage.py shell): each management command, printing
    {"name": [exit status, its output]} as JSON on the last line."""
    from io import StringIO

    from django.core.management import call_command

    results = {}
    for name, *args in commands:
        out = StringIO()
        try:
            call_command(name, *args, stdout=out, stderr=out)
            status = 0
        except SystemExit as exc:
            status = exc.code or 0
        except Exception as exc:  # reported to the test, which fails
            status, _ = 1, out.write(repr(exc))
        results[name] = [status, out.getvalue()]
    print(json.dumps(results))


def seed():
    """In the application (manage.py shell), through the services: a depot H3, head
    office, REPS representatives with 400 full 12.7KG cylinders on their vehicle each,
    CUSTOMERS customers (cash and credit, no limit) at 3000.00 a cylinder."""
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
        account = {"username": f"h3rep{n}", "password": PASSWORD, "vehicle_no": f"H3-{n}"}
        rep = user_create(**account, role="SALES", depots=[depot], actor=admin)
        load = {"depot": depot, "product": cylinder, "quantity": 400, "kind": "COLLECTION"}
        distribution_create(sales_rep=rep, **load, actor=admin)
    for n in range(CUSTOMERS):
        kind = "CASH" if n % 2 == 0 else "CREDIT"
        customer = customer_create(
            code=f"H3C{n}", name=f"Customer {n}", depot=depot, payment_type=kind, actor=admin
        )
        rate_set(customer=customer, product=cylinder, rate=Decimal("3000.00"), actor=admin)


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
            args = [gunicorn, *GUNICORN, f"--bind=127.0.0.1:{self.port}", f"--workers={workers}"]
            where = {"env": cluster.env(db), "cwd": settings.BASE_DIR}
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, **where)  # noqa: S603
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
            data = json.loads(raw) if raw.startswith((b"{", b"[")) else raw[:500]
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


class Poster:
    """`threads` handhelds posting one-cylinder sales, each with a key of its own, until
    stopped. `answers[key]` is every (status or the exception's repr, monotonic time)
    that key got; `requests[key]` what was sent, and by whom."""

    def __init__(self, server: Server, *, threads=6, tag="h3"):
        self.server, self.tag, self.lock = server, tag, threading.Lock()
        self.tokens = [server.token(f"h3rep{n}") for n in range(REPS)]
        self.requests: dict[str, tuple[str, dict]] = {}
        self.answers: dict[str, list] = {}
        self.stopping = threading.Event()
        self.workers = [threading.Thread(target=self._loop, args=(i,)) for i in range(threads)]

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
        line = {"product": "12.7KG", "quantity": 1, "empties_returned": 1}
        for n in itertools.count():
            if self.stopping.is_set():
                return
            body = {"customer": f"H3C{(index + n) % CUSTOMERS}", "lines": [line]}
            with self.lock:
                self.requests[f"{self.tag}-{index}-{n}"] = (self.tokens[index % REPS], body)
            self.post(f"{self.tag}-{index}-{n}")

    def start(self):
        for worker in self.workers:
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
