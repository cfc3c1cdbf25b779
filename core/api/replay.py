"""The Idempotency-Key of a POST: a retry gets the first response, another request with
the same key a 409 (see core.idempotency for the keys kept on the documents)."""

import functools
import hashlib
import json

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from core.api.errors import error
from core.db import run_atomic_with_retry
from core.idempotency import is_key_reused, replays_watched, response_purged
from core.models import IdempotencyKey

IDEMPOTENCY_HEADER = OpenApiParameter(
    name="Idempotency-Key",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description="A key of your own (at most 100 characters) for this POST: a retry with "
    "the same key gets the first response instead of posting again.",
)


class _Discard(Exception):
    def __init__(self, response):
        self.response = response


def idempotency_key(request) -> str | None:
    """The request's Idempotency-Key (checked by @idempotent), for the service that posts:
    the service keeps it on the document, so a retry is recognised after the key's record
    here has been purged too."""
    return request.headers.get("Idempotency-Key", "").strip() or None


def idempotent(view):
    """For a POST handler: the first request with a key posts; a retry with the same key
    and body gets the first response (header Idempotent-Replay: true); the same key with
    another body is a 409. The key is claimed in the transaction that posts, so concurrent
    retries wait for the first and then replay it. A refused request keeps no key.

    The record of each key is kept for good (a key used on one endpoint is a 409 on any
    other, years later too); its stored response is emptied after IDEMPOTENCY_KEY_HOURS.
    A retry after that runs the view again: the service finds the document it posted by
    the key kept on it, and the answer is that document (a replay). If no document holds
    the key (posted before documents kept theirs), nothing is posted and it is a 409.

    This wrapper opens the outermost transaction, so it is the one that retries it whole
    when it loses a race (deadlock, serialisation failure): see run_atomic_with_retry."""

    @functools.wraps(view)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            return view(self, request, *args, **kwargs)
        if len(key) > 100 or any(ord(c) < 32 or ord(c) == 127 for c in key):
            return error(
                400,
                "invalid",
                "The Idempotency-Key takes at most 100 characters, none of them control "
                "characters.",
                {"Idempotency-Key": ["At most 100 characters, no control characters."]},
            )
        digest = hashlib.sha256(
            (request.path + json.dumps(request.data, sort_keys=True, default=str)).encode()
        ).hexdigest()
        record = _recorded(request.user, key)
        if record is not None and (record.request_hash != digest or not response_purged(record)):
            return _replay(record, digest)

        def post():
            if record is not None:
                return _repost(lambda: view(self, request, *args, **kwargs), record)
            created = IdempotencyKey.objects.create(
                user=request.user,
                key=key,
                path=request.path[:200],
                request_hash=digest,
                status_code=0,
                response={},
            )
            with replays_watched() as replayed:
                response = view(self, request, *args, **kwargs)
            if not 200 <= response.status_code < 300:
                raise _Discard(response)
            if replayed:  # the service found the document this key posted long ago
                response["Idempotent-Replay"] = "true"
            created.status_code = response.status_code
            created.response = json.loads(json.dumps(response.data, default=str))
            created.save(update_fields=["status_code", "response"])
            return response

        try:
            return run_atomic_with_retry(post, name=getattr(view, "__name__", "post"))
        except _Discard as discarded:
            return discarded.response
        except DjangoValidationError as exc:
            if not is_key_reused(exc):
                raise
            return _key_reused(exc.message_dict["idempotency_key"][0])
        except IntegrityError:
            # another request with the key committed first: its record answers this one
            first = None if record is not None else _recorded(request.user, key)
            if first is None:
                raise
            return _replay(first, digest)

    return wrapper


def _repost(view, record: IdempotencyKey):
    """The same request again after its stored response was purged: the view runs, and
    the service hands back the document its key is kept on. One that would post instead
    (no document holds the key) is rolled back and refused. The record stays as it is."""
    with replays_watched() as replayed:
        response = view()
    if not 200 <= response.status_code < 300:
        raise _Discard(response)
    if not replayed:
        raise _Discard(
            _key_reused(
                "This Idempotency-Key was used on "
                f"{record.created_at:%Y-%m-%d} for a request whose response is no longer "
                "kept; nothing was posted. Send a new request with a new key."
            )
        )
    response["Idempotent-Replay"] = "true"
    return response


def _key_reused(message="This Idempotency-Key was already used for a different request."):
    return error(
        409,
        "idempotency_key_reused",
        message,
        {"Idempotency-Key": ["Already used for a different request."]},
    )


def _recorded(user, key) -> IdempotencyKey | None:
    return IdempotencyKey.objects.filter(user=user, key=key).first()


def _replay(record: IdempotencyKey, digest: str):
    """The answer a key's record gives: a 409 for another request, whatever endpoint
    the key was used on, else the stored response."""
    if record.request_hash != digest:
        return _key_reused()
    response = Response(record.response, status=record.status_code)
    response["Idempotent-Replay"] = "true"
    return response
