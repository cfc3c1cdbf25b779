"""/healthz answers anyone, so it says only whether the service is ready: never the
database's own error text (which names the host, port, user and database)."""

import logging

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper

DRIVER_TEXT = (
    'connection to server at "db.internal" (10.0.3.7), port 5433 failed: '
    'FATAL:  password authentication failed for user "hsh"'
)


@pytest.fixture
def database_down(monkeypatch):
    def refuse(self, sql, params=None):
        raise OperationalError(DRIVER_TEXT)

    monkeypatch.setattr(CursorWrapper, "execute", refuse)


@pytest.mark.django_db
def test_healthz_is_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_database_down_is_a_bare_503_and_the_detail_is_logged(
    client, settings, database_down, caplog
):
    settings.DEBUG = False
    with caplog.at_level(logging.ERROR, logger="core.views"):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error"}
    body = response.content.decode()
    for secret in ("db.internal", "10.0.3.7", "5433", "hsh", "password"):
        assert secret not in body
    # The operator still finds the reason, in the server's log.
    assert any("db.internal" in record.getMessage() for record in caplog.records)
    assert response["Cache-Control"].startswith("max-age=0")
