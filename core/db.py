"""Database helpers shared by the services: retry on lock conflicts, gapless numbers."""

import functools
import logging
import random
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, ParamSpec, TypeVar

from django.db import InterfaceError, OperationalError, connection, transaction

logger = logging.getLogger(__name__)

# PostgreSQL SQLSTATEs that mean "this transaction lost a race; run it again".
RETRYABLE_SQLSTATES = {"40P01", "40001"}  # deadlock_detected, serialization_failure
MAX_ATTEMPTS = 5

P = ParamSpec("P")
R = TypeVar("R")


def is_retryable(exc: BaseException) -> bool:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES


# SQLSTATEs of a connection that broke: class 08 (connection exception), and the server
# ending the session (admin_shutdown: pg_terminate_backend or a restart; crash_shutdown;
# cannot_connect_now while it starts up).
CONNECTION_SQLSTATES = ("08", "57P01", "57P02", "57P03")

CONNECTION_LOST_MESSAGE = "The database connection was lost; nothing was saved. Try again."
DATABASE_BUSY_MESSAGE = "The database was busy; nothing was saved. Try again."


def is_connection_lost(exc: BaseException) -> bool:
    """True when `exc` says the database connection itself failed (dropped, refused,
    terminated), as opposed to a statement the database refused."""
    if isinstance(exc, InterfaceError):
        return True  # used a connection that was already closed
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    sqlstate: str | None = getattr(cause, "sqlstate", None)
    if sqlstate:
        return sqlstate.startswith(CONNECTION_SQLSTATES)
    # psycopg reports a connection it could not open, or that the server dropped, without
    # a SQLSTATE; SQLite's "database is locked" has none either but is not one of those.
    return type(cause).__module__.split(".")[0] == "psycopg"


def database_error_message(exc: BaseException) -> str | None:
    """What to tell a person whose request failed in the database itself (the transaction
    rolled back, so a retry is safe); None when `exc` is not such a failure.

    A lost connection and a database too busy to finish (a lock conflict still there after
    atomic_with_retry's attempts, a timeout) are both temporary: try again."""
    if is_connection_lost(exc):
        return CONNECTION_LOST_MESSAGE
    if isinstance(exc, OperationalError):
        return DATABASE_BUSY_MESSAGE
    return None


def atomic_with_retry(func: Callable[P, R]) -> Callable[P, R]:
    """Run `func` in one transaction, retried when PostgreSQL reports a deadlock or a
    serialisation failure; history rows it writes are attributed to its `actor`.

    Inside an outer transaction it cannot retry (the outer one is already broken), so it
    runs once and lets the outer caller decide: whoever opens the outermost transaction
    retries it whole (see run_atomic_with_retry; the API's Idempotency-Key wrapper does)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return run_atomic_with_retry(
            functools.partial(func, *args, **kwargs),
            actor=kwargs.get("actor"),
            name=func.__name__,
        )

    return wrapper


def run_atomic_with_retry(
    call: Callable[[], R], *, actor: Any = None, name: str | None = None
) -> R:
    """call() in one transaction, run again (up to MAX_ATTEMPTS times, with jitter) when
    it loses a race: a deadlock or serialisation failure anywhere inside it, also in a
    nested service, rolls the whole transaction back and starts it over.

    Inside an outer transaction it runs once, in a savepoint, and lets the failure reach
    the outermost caller, which alone can retry: a savepoint cannot undo what the race
    did to the transaction around it."""
    name = name or getattr(call, "__name__", "transaction")
    if connection.in_atomic_block:
        with transaction.atomic(), _acting(actor):
            return call()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with transaction.atomic(), _acting(actor):
                return call()
        except OperationalError as exc:
            if not is_retryable(exc) or attempt == MAX_ATTEMPTS:
                raise
            logger.warning("%s: %s; retry %d", name, exc.__cause__, attempt)
            time.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311 - jitter
    raise AssertionError("unreachable")


def _acting(actor: Any) -> AbstractContextManager[object]:
    """History rows written by a service belong to its actor (see core.history)."""
    from contextlib import nullcontext

    from core.history import acting_as

    return acting_as(actor) if actor is not None else nullcontext()
