"""What every API view shares: one error shape, role permissions, Idempotency-Key."""

import functools
import hashlib
import json
import logging

from django.conf import settings
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    ObjectDoesNotExist,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, close_old_connections
from django.http import Http404, JsonResponse
from django.views import defaults
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, permissions, serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.db import database_error_message, is_connection_lost, run_atomic_with_retry
from core.idempotency import is_key_reused, replays_watched, response_purged
from core.models import IdempotencyKey, Role
from core.numbers import DECIMAL_FORMAT, WHOLE_FORMAT, TooLarge, plain_decimal, plain_whole
from core.numbers import TOO_LARGE as TOO_LARGE_NUMBER

logger = logging.getLogger(__name__)

# --- Errors --------------------------------------------------------------------------


def exception_handler(exc, context):
    """{"error": {"status", "code", "message", "fields": {name: [messages]}}} for every error.

    A service's ValidationError is a 400 naming its fields (a path such as
    lines[0].quantity) with the service's own code (insufficient_stock, credit_limit, ...);
    PermissionDenied a 403; a body over DATA_UPLOAD_MAX_MEMORY_SIZE a 413; a lost
    database connection or a database too busy to finish a 503 (nothing was saved: the
    request may be sent again, with the same Idempotency-Key).
    """
    unavailable = database_error_message(exc)
    if unavailable is not None:
        logger.warning("answered 503 for a database failure: %r", exc)
        close_old_connections()  # a broken connection is not used again (see middleware)
        code = "database_unavailable" if is_connection_lost(exc) else "database_busy"
        response = error(503, code, unavailable)
        response["Retry-After"] = "1"
        return response
    if isinstance(exc, DjangoValidationError):
        return error(400, *_service_refusal(exc))
    if isinstance(exc, RequestDataTooBig):
        return error(413, "request_too_large", TOO_LARGE)
    if isinstance(exc, SuspiciousOperation):  # too many fields or files, a bad header...
        return error(400, "bad_request", "The request could not be read.")
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, (exceptions.AuthenticationFailed, exceptions.NotAuthenticated)):
        response.data = error_body(response.status_code, *_sign_in_refusal(exc))
        return response
    fields, messages = {}, []
    _flatten(response.data, "", fields, messages)
    general = (
        fields.pop("non_field_errors", []) + fields.pop("detail", []) + fields.pop("__all__", [])
    )
    messages = general + messages
    code = getattr(exc, "default_code", "error")
    response.data = {
        "error": {
            "status": response.status_code,
            "code": code,
            "message": (messages or [m for ms in fields.values() for m in ms] or [str(exc)])[0],
            "fields": fields,
        }
    }
    return response


SIGN_IN_AGAIN = "Your sign-in has expired or is not valid; sign in again."
# simplejwt's codes for a token or Authorization header it cannot use. Its own messages
# ("Given token not valid for any token type") and the token classes it tried are for
# developers: the handheld shows the plain message, and branches on the code.
_TOKEN_PROBLEMS = {
    "token_not_valid",
    "bad_authorization_header",
    "user_not_found",
    "user_inactive",
    "password_changed",
}


def _sign_in_refusal(exc) -> tuple[str, str]:
    """(code, message) of a refused sign-in: simplejwt's specific code (its detail is a
    dict {"detail", "code", "messages"}), or DRF's (not_authenticated, token_revoked,
    no_active_account, ...) with the exception's own message."""
    detail = exc.detail
    if isinstance(detail, dict):
        code = str(detail.get("code") or exc.default_code)
        message = str(detail.get("detail") or exc.default_detail)
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        message = str(detail)
    if code in _TOKEN_PROBLEMS:
        message = SIGN_IN_AGAIN
    elif code == "not_authenticated":
        message = "You are not signed in; sign in first."
    return code, message


TOO_LARGE = (
    f"The request body is too large: at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes."
)


def _service_refusal(exc: DjangoValidationError) -> tuple[str, str, dict]:
    """(code, message, fields) of a service's ValidationError, its field paths and
    code as the service gave them; the code of the first error that has one, else
    "invalid"; the message: the first general message, else the first field's."""
    groups = exc.error_dict.items() if hasattr(exc, "error_dict") else [(None, exc.error_list)]
    fields, general, codes = {}, [], []
    for name, errors in groups:
        for item in errors:
            message = str(item.message % item.params if item.params else item.message)
            codes.append(item.code)
            if name in (None, NON_FIELD_ERRORS):
                general.append(message)
            else:
                fields.setdefault(name, []).append(message)
    messages = general + [m for ms in fields.values() for m in ms]
    code = next((c for c in codes if c), "invalid")
    return code, (messages or ["Refused."])[0], fields


def _flatten(data, prefix, fields, messages):
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                path = f"{prefix}[{key}]"  # an item of a list: lines[0].quantity
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            _flatten(value, path, fields, messages)
    elif (
        isinstance(data, list)
        and data
        and all(isinstance(v, (str, exceptions.ErrorDetail)) for v in data)
    ):
        (fields.setdefault(prefix, []) if prefix else messages).extend(str(v) for v in data)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            if value:
                _flatten(value, f"{prefix}[{index}]", fields, messages)
    elif data is not None:
        (fields.setdefault(prefix, []) if prefix else messages).append(str(data))


def error_body(status_code, code, message, fields=None) -> dict:
    return {
        "error": {
            "status": status_code,
            "code": code,
            "message": message,
            "fields": fields or {},
        }
    }


def error(status_code, code, message, fields=None):
    return Response(error_body(status_code, code, message, fields), status=status_code)


# --- Django's own error pages, for the paths under /api/ --------------------------------
# A URL no view answers, or a request refused before any API view runs, gets the API's
# error shape there (not Django's HTML page); elsewhere Django's pages as before.


def _under_api(request) -> bool:
    return request.path_info.startswith("/api/")


def _json_error(status_code, code, message):
    return JsonResponse(error_body(status_code, code, message), status=status_code)


def bad_request(request, exception, template_name=defaults.ERROR_400_TEMPLATE_NAME):
    if not _under_api(request):
        return defaults.bad_request(request, exception, template_name)
    if isinstance(exception, RequestDataTooBig):
        return _json_error(413, "request_too_large", TOO_LARGE)
    return _json_error(400, "bad_request", "The request could not be read.")


def permission_denied(request, exception, template_name=defaults.ERROR_403_TEMPLATE_NAME):
    if not _under_api(request):
        return defaults.permission_denied(request, exception, template_name)
    return _json_error(403, "permission_denied", "You do not have permission to do this.")


def page_not_found(request, exception, template_name=defaults.ERROR_404_TEMPLATE_NAME):
    if not _under_api(request):
        return defaults.page_not_found(request, exception, template_name)
    return _json_error(404, "not_found", f"Nothing is at {request.path}.")


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    if not _under_api(request):
        return defaults.server_error(request, template_name)
    return _json_error(500, "server_error", "Something went wrong on our side; it was logged.")


# --- Permissions -----------------------------------------------------------------------


class FieldPermission(permissions.IsAuthenticated):
    """Anyone active may read (limited to what their role sees); only a sales
    representative posts, and only as themselves."""

    message = "Only sales representatives post from the field, as themselves."

    def has_permission(self, request, view):
        if not super().has_permission(request, view) or not request.user.is_active:
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return request.user.role == Role.SALES


class HeadOfficeAndManagers(permissions.IsAuthenticated):
    message = "Reports are for head office and depot managers."

    def has_permission(self, request, view):
        return super().has_permission(request, view) and (
            request.user.is_superuser or request.user.role in (Role.ADMIN, Role.MANAGER)
        )


# --- Idempotency-Key -------------------------------------------------------------------

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


class CodeField(serializers.SlugRelatedField):
    """A depot, product or customer named by its code (refuses text no code can hold).

    A code that names nothing the user may use says what was looked for, in the words of
    NOT_FOUND; it never says whether the code exists elsewhere (another depot's customer
    reads as an unknown one)."""

    NOT_FOUND = {
        "customer": "No customer {code} among yours.",
        "product": "No product {code}.",
        "depot": "No depot {code}.",
    }
    EXAMPLES = {"customer": "C001", "product": "12.7KG", "depot": "NORTH"}

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "code")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        noun = self.get_queryset().model._meta.model_name
        if not isinstance(data, str) or "\x00" in data or len(data) > 50 or not data.strip():
            example = self.EXAMPLES.get(noun)
            raise serializers.ValidationError(
                f"Give the {noun}'s code as text" + (f", such as {example}." if example else "."),
                code="invalid",
            )
        try:
            return self.get_queryset().get(**{self.slug_field: data})
        except ObjectDoesNotExist:
            message = self.NOT_FOUND.get(noun, "No {noun} {code}.")
            raise serializers.ValidationError(
                message.format(noun=noun, code=data), code="does_not_exist"
            ) from None


def _read_number(field, data, read):
    """`read(data)` for a serializer field: too large is the field's max_value refusal
    (what a number just past the bound is told), anything else its "invalid"."""
    try:
        return read(data)
    except TooLarge:
        if field.max_value is not None:
            field.fail("max_value", max_value=field.max_value)
        raise serializers.ValidationError(TOO_LARGE_NUMBER, code="max_value") from None
    except ValueError:
        field.fail("invalid")


class PlainDecimalField(serializers.DecimalField):
    """An amount or reading: a JSON integer or a plain decimal string ("12", "12.50",
    "-3.25" where negatives are allowed). A JSON float, an exponent ("1e2"), non-ASCII
    digits or grouping are refused (core.numbers), naming the field."""

    default_error_messages = {
        "invalid": f"A valid number is required: {DECIMAL_FORMAT}; as text or a JSON "
        "integer, not a float."
    }

    def to_internal_value(self, data):
        return super().to_internal_value(_read_number(self, data, plain_decimal))


class PlainIntegerField(serializers.IntegerField):
    """A count: a JSON integer or a string of digits ("12"); not 1.0, "1.0" or "1e0"."""

    default_error_messages = {"invalid": f"A valid integer is required: {WHOLE_FORMAT}."}

    def to_internal_value(self, data):
        return super().to_internal_value(_read_number(self, data, plain_whole))


class Pagination(LimitOffsetPagination):
    """limit/offset pages of at most 200 rows."""

    default_limit = 50
    max_limit = 200

    def get_limit(self, request):
        limit = super().get_limit(request)
        return None if limit is None else min(limit, self.max_limit)

    def get_offset(self, request):
        return min(super().get_offset(request), 10**12)


# A URL's document code: anything but a slash, a dot or a control character.
CODE_IN_URL = r"[^/.\x00-\x1f]+"
