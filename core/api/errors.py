"""One error shape for everything under /api/: {"error": {status, code, message,
fields}}, from DRF views (exception_handler) and from Django's own error pages."""

import logging

from django.conf import settings
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import close_old_connections
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.db import database_error_message, is_connection_lost

logger = logging.getLogger(__name__)


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
