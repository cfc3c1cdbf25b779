"""A failure of the database itself is a 503 with a sentence people understand.

The real thing (pg_terminate_backend in the middle of a sale) is in
hsh_admin/tests/test_reliability.py; these pin down the mapping without a database.
"""

import json
import sqlite3

import psycopg
import psycopg.errors
import pytest
from django.db import DataError, IntegrityError, InterfaceError, OperationalError
from django.test import RequestFactory
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from core.db import (
    CONNECTION_LOST_MESSAGE,
    DATABASE_BUSY_MESSAGE,
    database_error_message,
    is_connection_lost,
)
from core.middleware import DatabaseUnavailableMiddleware

# The handlers close connections a failure broke, so they may touch the test database.
pytestmark = pytest.mark.django_db


def wrapped(cause):
    """The Django exception wrapping a driver's, as Django raises it."""
    try:
        raise OperationalError(str(cause)) from cause
    except OperationalError as exc:
        return exc


LOST = [
    wrapped(psycopg.errors.AdminShutdown("terminating connection due to administrator command")),
    wrapped(psycopg.OperationalError("server closed the connection unexpectedly")),
    wrapped(psycopg.OperationalError("connection failed: Connection refused")),
    wrapped(psycopg.errors.ConnectionFailure("connection failure")),  # SQLSTATE 08006
    InterfaceError("connection already closed"),
]
BUSY = [
    wrapped(psycopg.errors.DeadlockDetected("deadlock detected")),  # after its retries
    wrapped(psycopg.errors.LockNotAvailable("could not obtain lock")),
    wrapped(psycopg.errors.QueryCanceled("canceling statement due to statement timeout")),
    wrapped(sqlite3.OperationalError("database is locked")),
]
NOT_THE_DATABASE = [IntegrityError("duplicate key"), DataError("too long"), ValueError("x")]


@pytest.mark.parametrize("exc", LOST, ids=repr)
def test_a_lost_connection_is_recognised(exc):
    assert is_connection_lost(exc)
    assert database_error_message(exc) == CONNECTION_LOST_MESSAGE


@pytest.mark.parametrize("exc", BUSY, ids=repr)
def test_a_database_too_busy_is_not_a_lost_connection(exc):
    assert not is_connection_lost(exc)
    assert database_error_message(exc) == DATABASE_BUSY_MESSAGE


@pytest.mark.parametrize("exc", NOT_THE_DATABASE, ids=repr)
def test_other_errors_are_left_alone(exc):
    assert not is_connection_lost(exc)
    assert database_error_message(exc) is None


class Failing(APIView):
    permission_classes = ()
    authentication_classes = ()
    error = None

    def post(self, request):
        raise self.error


@pytest.mark.parametrize(
    ("exc", "code", "message"),
    [
        (LOST[0], "database_unavailable", CONNECTION_LOST_MESSAGE),
        (BUSY[0], "database_busy", DATABASE_BUSY_MESSAGE),
    ],
)
def test_the_api_answers_503_in_its_error_shape(exc, code, message):
    view = Failing.as_view(error=exc)
    response = view(APIRequestFactory().post("/api/sales/", {}, format="json"))
    assert response.status_code == 503
    assert response.data == {
        "error": {"status": 503, "code": code, "message": message, "fields": {}}
    }
    assert response["Retry-After"] == "1"


def test_the_api_still_lets_other_errors_through():
    view = Failing.as_view(error=ValueError("a bug"))
    with pytest.raises(ValueError, match="a bug"):
        view(APIRequestFactory().post("/api/sales/", {}, format="json"))


def middleware():
    return DatabaseUnavailableMiddleware(lambda request: None)


def test_the_middleware_answers_an_admin_page_with_a_plain_503_page():
    request = RequestFactory().get("/admin/sales/transaction/")
    response = middleware().process_exception(request, LOST[1])
    assert response.status_code == 503
    assert CONNECTION_LOST_MESSAGE.encode() in response.content
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"] == "1"


def test_the_middleware_answers_the_api_in_its_error_shape():
    request = RequestFactory().post("/api/payments/")
    response = middleware().process_exception(request, BUSY[0])
    assert response.status_code == 503
    assert json.loads(response.content) == {
        "error": {
            "status": 503,
            "code": "database_busy",
            "message": DATABASE_BUSY_MESSAGE,
            "fields": {},
        }
    }


@pytest.mark.parametrize("exc", NOT_THE_DATABASE, ids=repr)
def test_the_middleware_leaves_other_errors_to_django(exc):
    assert middleware().process_exception(RequestFactory().get("/admin/"), exc) is None
