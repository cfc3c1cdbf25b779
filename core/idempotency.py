"""Idempotency keys kept on the documents themselves, so they hold forever.

A service that accepts `idempotency_key` stores it on its document with a fingerprint of
the request as it understood it (unique per user and key). A retry with the key gets the
first document back, years later too; the same key with another request is refused with
the code `idempotency_key_reused` (a 409 over the API).

The API keeps its own record of each user's keys (core.IdempotencyKey): which request each
was first used for, whatever the endpoint, and for IDEMPOTENCY_KEY_HOURS the response it
got. After that only the response is emptied (core.tasks.housekeeping_purge): the record
still refuses the key for another request, and a retry of the same request runs again for
the service to find its document by the key.
"""

import hashlib
import json
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import models

KEY_MAX_LENGTH = 100
REUSED = "idempotency_key_reused"

Document = TypeVar("Document", bound=models.Model)

_replays: ContextVar[list | None] = ContextVar("idempotent_replays", default=None)


def key_clean(key: object) -> str | None:
    """The key as stored: None when there is none. Refused when it is longer than 100
    characters or holds control characters."""
    if key is None:
        return None
    if not isinstance(key, str):
        raise ValidationError(
            {"idempotency_key": ValidationError("The key must be text.", code="invalid")}
        )
    key = key.strip()
    if not key:
        return None
    if len(key) > KEY_MAX_LENGTH:
        raise ValidationError(
            {
                "idempotency_key": ValidationError(
                    f"Use at most {KEY_MAX_LENGTH} characters.", code="max_length"
                )
            }
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in key):
        raise ValidationError(
            {
                "idempotency_key": ValidationError(
                    "The key may not hold control characters.", code="invalid"
                )
            }
        )
    return key


def fingerprint(**request: object) -> str:
    """SHA-256 of a request as the service understood it: records by primary key,
    amounts as their text, everything else as JSON."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=_plain)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _plain(value):
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} has no fingerprint")


def replay(
    document: Document,
    *,
    request_fingerprint: str,
    what: str,
    legacy_same: Callable[[], object] | None = None,
) -> Document:
    """`document` was posted earlier with the same user and key: return it when this is
    the same request again, and refuse it otherwise.

    `what` names the document for people ("payment PAY-2026-000042"). Documents posted
    before fingerprints were kept have none; `legacy_same()` then says whether the
    request matches what can still be compared.
    """
    if document.request_fingerprint:
        same = document.request_fingerprint == request_fingerprint
    else:
        same = legacy_same is None or bool(legacy_same())
    if not same:
        raise ValidationError(
            {
                "idempotency_key": ValidationError(
                    f"This key was already used for {what}, with a different request.",
                    code=REUSED,
                )
            }
        )
    document.idempotent_replay = True
    seen = _replays.get()
    if seen is not None:
        seen.append(document)
    return document


@contextmanager
def replays_watched():
    """Collect the documents services hand back as replays while the block runs (the
    API marks such a response `Idempotent-Replay: true`)."""
    seen: list = []
    token = _replays.set(seen)
    try:
        yield seen
    finally:
        _replays.reset(token)


def response_purged(record) -> bool:
    """True when an API key record's stored response was emptied by the purge (a record
    only outlives its request with a 2xx status, and no posting answers `{}`)."""
    return 200 <= record.status_code < 300 and record.response == {}


def is_key_reused(exc: ValidationError) -> bool:
    """True when a service refused a request because its key was used for another."""
    errors = getattr(exc, "error_dict", {}).get("idempotency_key", [])
    return any(getattr(error, "code", None) == REUSED for error in errors)
