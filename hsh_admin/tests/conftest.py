"""Fixtures of the browser tests (headless Debian chromium driven by selenium against
pytest-django's live server). The driver is started once per session; each test starts
from a clean cookie jar. A test asks for `browser`; the settings a live server needs in
these tests (tasks inline, media in a temporary folder, connections closed after each
request) come with it."""

import pytest

from hsh_admin.tests.browser import CHROMEDRIVER, CHROMIUM, Browser


@pytest.fixture(scope="session")
def _browser_dirs(tmp_path_factory):
    return {
        "downloads": tmp_path_factory.mktemp("browser-downloads"),
        "evidence": tmp_path_factory.mktemp("browser-evidence"),
    }


@pytest.fixture(scope="session")
def driver(_browser_dirs):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1366,900",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(_browser_dirs["downloads"]),
            "download.prompt_for_download": False,
            "download.directory_upgrade": True,
            "safebrowsing.enabled": False,
        },
    )
    chrome = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    chrome.set_script_timeout(30)
    try:
        yield chrome
    finally:
        chrome.quit()


@pytest.fixture
def _tasks_run_in_process(monkeypatch):
    """Export jobs are built inline (in the live server's thread), as without REDIS_URL."""
    from hsh_admin.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)


@pytest.fixture
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def _server_connections_close_after_each_request(monkeypatch):
    """The live server answers Chrome's keep-alive connections in threads that outlive the
    test; with CONN_MAX_AGE their database sessions would too, and block dropping the
    test database. Close each one when its request ends. (Not on SQLite: there the live
    server's threads share the test's in-memory connection, which they may not close.)"""
    from django.db import connection

    if connection.vendor != "sqlite":
        monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)


@pytest.fixture
def browser(
    driver,
    live_server,
    _browser_dirs,
    request,
    _tasks_run_in_process,
    _media_in_tmp,
    _server_connections_close_after_each_request,
):
    driver.delete_all_cookies()
    driver.set_window_size(1366, 900)
    for leftover in _browser_dirs["downloads"].iterdir():
        leftover.unlink()
    return Browser(
        driver,
        live_server.url,
        _browser_dirs["downloads"],
        _browser_dirs["evidence"],
        request.node.name,
    )
