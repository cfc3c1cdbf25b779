"""Database helpers shared by the services: retry on lock conflicts, gapless numbers."""

import functools
import logging
import random
import time

from django.db import OperationalError, connection, transaction

logger = logging.getLogger(__name__)

# PostgreSQL SQLSTATEs that mean "this transaction lost a race; run it again".
RETRYABLE_SQLSTATES = {"40P01", "40001"}  # deadlock_detected, serialization_failure
MAX_ATTEMPTS = 5


def is_retryable(exc: BaseException) -> bool:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES


def atomic_with_retry(func):
    """Run `func` in one transaction, retried when PostgreSQL reports a deadlock or a
    serialisation failure; history rows it writes are attributed to its `actor`.

    Inside an outer transaction it cannot retry (the outer one is already broken), so it
    runs once and lets the outer caller decide."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        actor = kwargs.get("actor")
        if connection.in_atomic_block:
            with transaction.atomic(), _acting(actor):
                return func(*args, **kwargs)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with transaction.atomic(), _acting(actor):
                    return func(*args, **kwargs)
            except OperationalError as exc:
                if not is_retryable(exc) or attempt == MAX_ATTEMPTS:
                    raise
                logger.warning("%s: %s; retry %d", func.__name__, exc.__cause__, attempt)
                time.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311 - jitter
        raise AssertionError("unreachable")

    return wrapper


def _acting(actor):
    """History rows written by a service belong to its actor (see core.history)."""
    from contextlib import nullcontext

    from core.history import acting_as

    return acting_as(actor) if actor is not None else nullcontext()
