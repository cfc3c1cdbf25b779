"""What a newcomer sees in the console: no start-up banner per process, one line per
refused request (no traceback), lockout warnings kept, and no favicon 404 on every page."""

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

BASE_DIR = Path(settings.BASE_DIR)


def test_a_management_command_does_not_log_the_axes_banner(tmp_path):
    """`make run` runs migrate, seed_demo and runserver (two processes): each logged
    "AXES: BEGIN ..." at start-up."""
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "ENV_FILE": "",
    }
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "AXES: BEGIN" not in result.stdout + result.stderr


def test_lockout_warnings_are_still_logged(client, user_factory, caplog):
    user_factory("ADMIN", username="boss")
    with caplog.at_level(logging.WARNING, logger="axes"):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            client.post(reverse("admin:login"), {"username": "boss", "password": "wrong"})
    assert any("Locking out" in r.getMessage() for r in caplog.records)


@pytest.fixture
def console(monkeypatch, settings):
    """Everything the console handlers would print for a django.request record, with
    DEBUG on as under `make run` (Django's own console handler prints only then)."""
    settings.DEBUG = True
    stream = io.StringIO()
    logger = logging.getLogger("django.request")
    while logger is not None:
        for handler in logger.handlers:
            if isinstance(handler, logging.StreamHandler) and not isinstance(
                handler, logging.FileHandler
            ):
                monkeypatch.setattr(handler, "stream", stream)
        logger = logger.parent if logger.propagate else None
    return stream


def test_an_admin_403_is_one_line_without_a_traceback(console, manager):
    client = Client()
    client.force_login(manager)
    assert client.get(reverse("admin:core_depot_add")).status_code == 403
    printed = console.getvalue()
    assert printed.count("Forbidden (Permission denied): /admin/core/depot/add/") == 1
    assert "Traceback" not in printed
    assert len([line for line in printed.splitlines() if "/admin/core/depot/add/" in line]) == 1


def test_an_api_403_is_one_line(console, manager):
    client = Client()
    client.force_login(manager)
    assert client.post("/api/sales/", {}, content_type="application/json").status_code == 403
    printed = console.getvalue()
    assert printed.count("Forbidden: /api/sales/") == 1
    assert "Traceback" not in printed


def test_a_server_error_keeps_its_traceback(console, head_office, monkeypatch):
    """Only expected refusals lose the traceback; a 500 is a bug and keeps it."""
    import core.admin_site

    def broken(request):
        raise RuntimeError("boom")

    monkeypatch.setattr(core.admin_site, "panels_for", broken)
    client = Client(raise_request_exception=False)
    client.force_login(head_office)
    assert client.get(reverse("admin:index")).status_code == 500
    printed = console.getvalue()
    assert printed.count("Internal Server Error: /admin/") == 1
    assert "Traceback" in printed
    assert "RuntimeError: boom" in printed


# --- favicon ----------------------------------------------------------------------------


def test_favicon_is_a_static_file():
    path = finders.find("favicon.ico")
    assert path is not None
    assert Path(path).read_bytes()[:4] == b"\x00\x00\x01\x00"  # an ICO header


def test_favicon_ico_redirects_to_the_static_file(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/favicon.ico"


def test_whitenoise_serves_it(settings):
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    response = Client().get("/static/favicon.ico")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"


def test_admin_pages_name_the_icon(client, head_office):
    client.force_login(head_office)
    for url in (reverse("admin:login"), reverse("admin:index")):
        page = Client().get(url) if url.endswith("login/") else client.get(url)
        assert '<link rel="icon" href="/static/favicon.ico"' in page.content.decode()
