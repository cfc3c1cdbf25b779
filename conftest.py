"""Shared fixtures, and the rule for tests that need a real service.

A test marked `postgres`, `redis`, `browser` or `axe` runs when that service is there. On a bare
laptop it is skipped with the reason printed; under CI (CI=true) a missing service fails
the test instead, so CI can never go green by skipping.
"""

import os
import shutil
import socket
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings


def _postgres_missing():
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return "needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/hsh"
    return None


def _redis_missing():
    url = os.environ.get("REDIS_URL", "")
    if not url:
        return "needs Redis: set REDIS_URL=redis://127.0.0.1:6379/0"
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=2).close()
    except OSError as exc:
        return f"needs Redis at {url}: {exc}"
    return None


def _browser_missing():
    for binary in ("chromium", "chromedriver"):
        if shutil.which(binary) is None:
            return f"needs {binary}: apt-get install chromium chromium-driver"
    return None


def _axe_missing():
    script = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        return "needs axe-core from npm: run `npm ci` (make test does when npm is there)"
    return _browser_missing()


REQUIREMENTS = {
    "postgres": _postgres_missing,
    "redis": _redis_missing,
    "browser": _browser_missing,
    "axe": _axe_missing,
}


def _in_ci():
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits and cached values do not carry from one test to the next."""
    from django.core.cache import cache

    cache.clear()


def _own_services_per_process():
    """Under pytest-xdist (`-n 2`) each test process takes a media folder and a Redis
    database of its own (the next ones after REDIS_URL's): a test clears the cache
    (FLUSHDB), the worker tests read their queues, and exports are named by job number,
    which another process's test must not touch. Set before anything uses the cache or the
    broker; the Celery workers the tests start inherit both through the environment."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return
    # Exports and PDFs another process's test would write under the same job number.
    settings.MEDIA_ROOT = Path(settings.MEDIA_ROOT) / f"test-{worker}"
    os.environ["MEDIA_ROOT"] = str(settings.MEDIA_ROOT)
    url = os.environ.get("REDIS_URL", "")
    if not url:
        return
    parsed = urlparse(url)
    database = (int(parsed.path.strip("/") or 0) + int(worker[2:])) % 16
    url = parsed._replace(path=f"/{database}").geturl()
    os.environ["REDIS_URL"] = url
    settings.REDIS_URL = url
    settings.CELERY_BROKER_URL = url
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": url}}
    from celery import current_app

    current_app._get_current_object().conf.broker_url = url


def pytest_configure(config):
    _own_services_per_process()
    # The production hasher is slow on purpose; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_report_header(config):
    lines = []
    for name, check in REQUIREMENTS.items():
        missing = check()
        lines.append(f"{name}: {'available' if missing is None else 'MISSING - ' + missing}")
    return ["services: " + "; ".join(lines)]


# The Celery app's settings a test may change for itself; each must be back as configured
# when the test has ended, or a later test (a real worker's) runs its tasks in-process.
_CELERY_KEYS = ("task_always_eager", "broker_url", "task_eager_propagates")
_celery_before = pytest.StashKey[dict]()


def _celery_conf():
    from celery import current_app

    conf = current_app._get_current_object().conf
    return {key: conf.get(key) for key in _CELERY_KEYS}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    before = item.stash.get(_celery_before, None)
    result = yield
    after = _celery_conf()
    if before is not None and after != before:
        from celery import current_app

        app = current_app._get_current_object()
        app.conf.update(before)  # put back, so that one leak fails one test, not the next
        app._after_fork()
        changed = {k: f"{before[k]!r} -> {after[k]!r}" for k in before if before[k] != after[k]}
        pytest.fail(f"the test left the Celery settings changed: {changed}", pytrace=False)
    return result


def pytest_runtest_setup(item):
    item.stash[_celery_before] = _celery_conf()
    for name, check in REQUIREMENTS.items():
        if item.get_closest_marker(name) is None:
            continue
        missing = check()
        if missing is None:
            continue
        if _in_ci():
            pytest.fail(f"CI runs everything, but this test {missing}", pytrace=False)
        pytest.skip(missing)


# --- Domain fixtures -------------------------------------------------------------------


@pytest.fixture
def depot_factory(db):
    from core.models import Depot

    def make(code, name=None, **extra):
        return Depot.objects.create(code=code, name=name or f"{code.title()} depot", **extra)

    return make


@pytest.fixture
def north(depot_factory):
    return depot_factory("NORTH")


@pytest.fixture
def south(depot_factory):
    return depot_factory("SOUTH")


@pytest.fixture
def user_factory(db):
    from core.services import user_bootstrap

    counter = iter(range(1, 10_000))

    def make(role, depots=(), username=None, password="correct-horse-battery", **extra):
        n = next(counter)
        if role == "SALES":
            extra.setdefault("vehicle_no", f"VH-{n:04d}")
        # Fixture accounts are opened by nobody: no audit entry (user_create's is tested
        # with an actor in core/tests).
        return user_bootstrap(
            username=username or f"{role.lower()}{n}",
            password=password,
            role=role,
            depots=depots,
            **extra,
        )

    return make


@pytest.fixture
def head_office(user_factory):
    return user_factory("ADMIN", username="headoffice")


@pytest.fixture
def manager(user_factory, north):
    return user_factory("MANAGER", depots=[north], username="northmanager")


@pytest.fixture
def sales_rep(user_factory, north):
    return user_factory("SALES", depots=[north], username="northrep")


@pytest.fixture
def products(db):
    """The standard products (created by migration), by code."""
    from stock.models import Product

    return {p.code: p for p in Product.objects.all()}


@pytest.fixture
def customer_factory(north, head_office, products):
    """make(payment_type="CASH", rates=None, depot=None, **fields): a customer C001,
    C002, ... of NORTH (or `depot`), at `rates` ({product code: rate}; by default
    12.7KG 3000.00, 9KG 2200.00 and BULK 250.00)."""
    from decimal import Decimal

    from sales.models import Customer
    from sales.services import rate_set

    counter = iter(range(1, 10_000))

    def make(payment_type="CASH", rates=None, depot=None, **extra):
        n = next(counter)
        customer = Customer.objects.create(
            code=f"C{n:03d}",
            name=f"Customer {n}",
            depot=depot or north,
            payment_type=payment_type,
            **extra,
        )
        for code, rate in (
            rates or {"12.7KG": "3000.00", "9KG": "2200.00", "BULK": "250.00"}
        ).items():
            rate_set(
                customer=customer, product=products[code], rate=Decimal(rate), actor=head_office
            )
        return customer

    return make


@pytest.fixture
def loaded_vehicle(north, sales_rep, head_office, products):
    """The representative's vehicle with 20 full 12.7KG and 10 full 9KG cylinders."""
    from stock.services import distribution_create, stock_receive

    for code, quantity in (("12.7KG", 20), ("9KG", 10)):
        stock_receive(depot=north, product=products[code], quantity=100, actor=head_office)
        distribution_create(
            sales_rep=sales_rep,
            depot=north,
            product=products[code],
            quantity=quantity,
            kind="COLLECTION",
            actor=head_office,
        )
    return sales_rep


@pytest.fixture
def field_day(north, head_office, sales_rep):
    """A representative's working day, for API and service tests: `received` full 12.7KG
    cylinders delivered to NORTH, `collected` of them on the vehicle, and a credit
    customer per code buying them at 3000.00. Returns (product, {code: customer})."""
    from decimal import Decimal

    from sales.models import Customer
    from sales.services import rate_set
    from stock.models import Product
    from stock.services import distribution_create, stock_receive

    def make(*, received=100, collected=20, codes=("C1",), credit_limit=None, collector=None):
        cyl = Product.objects.get(code="12.7KG")
        stock_receive(depot=north, product=cyl, quantity=received, actor=head_office)
        distribution_create(
            sales_rep=sales_rep,
            depot=north,
            product=cyl,
            quantity=collected,
            kind="COLLECTION",
            actor=collector or head_office,
        )
        customers = {}
        for code in codes:
            customers[code] = Customer.objects.create(
                code=code,
                name=f"Customer {code}",
                depot=north,
                payment_type="CREDIT",
                credit_limit=credit_limit,
            )
            rate_set(customer=customers[code], product=cyl, rate=Decimal("3000"), actor=head_office)
        return cyl, customers

    return make


# --- Concurrency -----------------------------------------------------------------------


def run_concurrently(calls, *, timeout=120):
    """Run each zero-argument callable in its own thread, all released at once.

    Returns one outcome per call: its result, or the exception it raised. Each thread
    opens its own database connection and closes it when done.
    """
    import threading

    from django.db import connections

    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=timeout)
            outcomes[index] = call()
        except BaseException as exc:  # the test inspects every outcome
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(t.is_alive() for t in threads), "a thread did not finish (deadlock?)"
    return outcomes


@pytest.fixture
def concurrently():
    return run_concurrently


# --- Append-only tables in tests -------------------------------------------------------


@pytest.fixture(autouse=True)
def _append_only_tables_allow_the_test_flush(request):
    """The append-only triggers refuse TRUNCATE, and so the flush that ends every
    transaction=True test. Only for that flush, and only on the test's own superuser
    connection, run as a replica (triggers off); the application never can."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        yield
        return
    from django.db import connection

    postgres = connection.vendor == "postgresql"
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")
    yield
    if postgres and marker.kwargs.get("transaction"):
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
