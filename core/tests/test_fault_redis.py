"""Redis stopped while sales are posted (issue #19): nothing lost, nothing twice.

A Redis of the test's own (a redis-server on a free port among 6391-6393, nothing saved
to disk: a restart comes back empty, as a Redis that crashed) serves as the broker and
the cache, as one Redis does in production. The shared Redis on 6379 is never stopped.

While it is down, sales are posted through the field API and the service, and an export
is asked for from the reports page: each one commits and answers as usual (the request
for the workers fails after the commit, is logged, and the request is not troubled).
Redis is started again, empty; a real Celery worker on it and on the test's PostgreSQL
database runs what celery beat runs every minute (the outbox sweep, the requeue of
exports whose message never reached a worker): each invoice goes out once, each export
is built once, and further runs of those tasks send and build nothing more. A sale
posted, and an export asked for, before Redis stopped (their messages lost with it) are
caught the same way.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from celery import current_app
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from billing.services.outbox import message_id
from core.models import OutboxMessage, OutboxStatus
from reporting.models import ExportJob, JobStatus
from sales.models import Transaction
from sales.services import sale_post

PORTS = (6391, 6392, 6393)
STALE_SECONDS = 1  # an export queued this long ago without a worker is queued again


def _in_ci():
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _need_redis_server():
    if shutil.which("redis-server") is None:
        reason = "needs redis-server on the PATH (Debian: apt-get install redis-server)"
        if _in_ci():
            pytest.fail(f"CI runs everything, but this test {reason}", pytrace=False)
        pytest.skip(reason)


def _free_port():
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail(f"no free port among {PORTS} for the test's own Redis")


class OwnRedis:
    """A redis-server of the test's own: started, killed (as a crash) and started again
    on the same port, empty each time (nothing saved)."""

    def __init__(self, tmp_path):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tmp_path / "redis"
        self.dir.mkdir()
        self.process = None

    def start(self):
        self.process = subprocess.Popen(  # noqa: S603 - our own server
            [
                shutil.which("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        pytest.fail(f"redis-server did not start on port {self.port}")

    def kill(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def client(self):
        return redis.Redis.from_url(self.url)


def _database_url():
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """A Celery worker process on the test's own Redis, with mail written to files."""

    def __init__(self, tmp_path, redis_url):
        self.mail_dir = tmp_path / "mail"
        self.mail_dir.mkdir()
        self.log = tmp_path / "worker.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "REDIS_URL": redis_url,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "SECRET_KEY": settings.SECRET_KEY,
            "ENV_FILE": "",
            "EXPORT_JOB_STALE_SECONDS": str(STALE_SECONDS),
            "EMAIL_URL": f"filemail:///{self.mail_dir}",
        }
        self.process = None

    def start(self):
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "hsh_admin",
                    "worker",
                    "--pool=solo",
                    "-n",
                    "fault-redis@%h",
                    "--loglevel=WARNING",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],
                env=self.env,
                cwd=settings.BASE_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def mail(self):
        return "".join(p.read_text() for p in sorted(self.mail_dir.iterdir()))

    def output(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_for(self, condition, what, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.05)
        pytest.fail(f"timed out waiting for {what}\n--- worker ---\n{self.output()[-4000:]}")


@pytest.fixture
def own_redis(tmp_path, settings, monkeypatch):
    """The test's own Redis as this process's broker and cache (restored after)."""
    _need_redis_server()
    server = OwnRedis(tmp_path)
    server.start()
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": server.url}}
    app = current_app._get_current_object()
    monkeypatch.setitem(app.conf, "broker_url", server.url)
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    app._after_fork()  # the connection and producer pools, made again for this broker
    try:
        yield server
    finally:
        with contextlib.suppress(Exception):  # a pool on a dead server
            app.pool.force_close_all()
        server.kill()
        monkeypatch.undo()
        app._after_fork()  # pools for the configured broker again, when next used


def test_the_cache_on_a_redis_that_cannot_be_reached_misses_and_keeps_nothing(caplog):
    from core.cache import RedisCache

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cache = RedisCache(f"redis://127.0.0.1:{port}/0", {})
    assert cache.get("k") is None
    assert cache.get("k", "default") == "default"
    assert cache.set("k", 1) is None
    assert cache.add("k", 1) is False
    assert cache.get_many(["k", "l"]) == {}
    assert cache.has_key("k") is False
    assert cache.delete("k") is False
    assert cache.touch("k") is False
    assert cache.get_or_set("k", 2) == 2
    with pytest.raises(ValueError, match="not found"):
        cache.incr("k")
    cache.set_many({"k": 1})
    cache.delete_many(["k"])
    assert "Redis cannot be reached" in caplog.text


@pytest.mark.redis
def test_with_redis_the_settings_use_that_cache():
    """REDIS_URL set (CI, production): the forgiving cache above, not Django's own."""
    assert settings.CACHES["default"]["BACKEND"] == "core.cache.RedisCache"


@pytest.mark.redis
def test_a_redis_that_never_answers_is_a_miss_not_a_hang(caplog):
    """A Redis host that takes the connection and then says nothing (a network that drops
    packets) costs a request the settings' socket timeout, then reads as a miss."""
    from core.cache import RedisCache

    with socket.socket() as silent:  # accepts connections (the backlog), never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        params = {"OPTIONS": settings.CACHES["default"]["OPTIONS"]}
        cache = RedisCache(f"redis://127.0.0.1:{port}/0", params)
        assert cache.get("k", "default") == "default"
    assert "Redis cannot be reached" in caplog.text


@pytest.mark.django_db
def test_an_export_asked_for_while_the_broker_is_down_is_kept_for_the_requeue(
    head_office, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    """The job commits and the request is answered; the failed hand-over is logged, and
    the beat's requeue of overdue queued jobs builds it later."""
    from kombu.exceptions import OperationalError

    from reporting.services import export_job_request
    from reporting.tasks import export_job_run

    asked = []

    def broker_down(*args, **kwargs):
        asked.append(args)
        raise OperationalError("Error 111 connecting to 127.0.0.1:6391. Connection refused.")

    monkeypatch.setitem(current_app.conf, "task_always_eager", False)
    monkeypatch.setattr(export_job_run, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        job = export_job_request(actor=head_office, report="receivables", filters={}, format="csv")
    assert asked
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    assert "the beat's requeue builds it" in caplog.text


def _sale_body(customer):
    return {"customer": customer.code, "lines": [{"product": "12.7KG", "quantity": 1}]}


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sales_posted_while_redis_is_down_commit_and_are_emailed_once_when_it_is_back(
    own_redis, customer_factory, loaded_vehicle, head_office, products, client, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EXPORT_JOB_STALE_SECONDS = STALE_SECONDS
    buyers = [customer_factory("CASH", email=f"buyer{n}@example.lk") for n in range(4)]
    api = APIClient()
    api.force_authenticate(loaded_vehicle)
    client.force_login(head_office)

    def export():
        """Ask for a background export as the reports page's button does."""
        response = client.post("/admin/reports/receivables/?format=csv&async=1")
        assert response.status_code == 302, response.content[:2000]
        return ExportJob.objects.order_by("-pk").first()

    worker = Worker(tmp_path, own_redis.url)
    try:
        # Redis up, no worker yet: the first sale's request and the first export's wait
        # in Redis, and are lost with it.
        response = api.post("/api/sales/", _sale_body(buyers[0]), format="json")
        assert response.status_code == 201, response.content
        numbers = [response.json()["number"]]
        jobs = [export()]
        assert own_redis.client().llen("celery") == 2

        own_redis.kill()

        # Redis down: sales post (API and service), and an export is asked for.
        for buyer in buyers[1:3]:
            response = api.post("/api/sales/", _sale_body(buyer), format="json")
            assert response.status_code == 201, response.content
            numbers.append(response.json()["number"])
        sale = sale_post(
            customer=buyers[3],
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[{"product": products["12.7KG"], "quantity": 1}],
        )
        numbers.append(sale.number)
        jobs.append(export())
        assert Transaction.objects.filter(number__in=numbers).count() == 4
        assert Transaction.objects.get(number=numbers[1]).total_amount == Decimal("3000.00")
        messages = list(OutboxMessage.objects.filter(number__in=numbers).order_by("pk"))
        assert [m.number for m in messages] == numbers
        assert {m.status for m in messages} == {OutboxStatus.PENDING}
        assert [j.status for j in jobs] == [JobStatus.QUEUED, JobStatus.QUEUED]

        # Redis back, empty; a worker; what beat runs every minute, run by it.
        own_redis.start()
        assert own_redis.client().llen("celery") == 0  # the waiting requests are gone
        worker.start()
        time.sleep(STALE_SECONDS + 0.1)  # the exports' requests are now overdue
        current_app.send_task("billing.tasks.outbox_send_due")
        current_app.send_task("reporting.tasks.export_jobs_requeue_stale")
        worker.wait_for(
            lambda: (
                OutboxMessage.objects.filter(number__in=numbers, status=OutboxStatus.SENT).count()
                == 4
                and ExportJob.objects.filter(
                    pk__in=[j.pk for j in jobs], status=JobStatus.DONE
                ).count()
                == 2
            ),
            "the invoices to be sent and the exports built",
        )

        # The beat's next runs, twice over, send and build nothing more.
        for _ in range(2):
            current_app.send_task("billing.tasks.outbox_send_due")
            current_app.send_task("reporting.tasks.export_jobs_requeue_stale")
        worker.wait_for(
            lambda: (
                own_redis.client().llen("celery") == 0 and not own_redis.client().hlen("unacked")
            ),
            "the queue worked and every task acknowledged",
        )
        mail = worker.mail()
        assert mail.count("Message-ID: <outbox.") == 4, mail[:3000]
        for message in messages:
            assert mail.count(f"Message-ID: {message_id(message)}") == 1
            message.refresh_from_db()
            assert (message.status, message.attempts, message.last_error) == (
                OutboxStatus.SENT,
                1,
                "",
            )
        for number in numbers:
            assert f"Subject: Tax invoice {number}" in mail
        built = sorted(p.name for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file())
        for job in jobs:
            job.refresh_from_db()
            assert (job.status, job.attempts, job.error) == (JobStatus.DONE, 1, "")
        assert built == sorted(Path(j.file.name).name for j in jobs)
        assert "Traceback" not in worker.output(), worker.output()
    finally:
        worker.stop()
