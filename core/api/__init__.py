"""What every API view shares: one error shape (errors.py), role permissions
(permissions.py), Idempotency-Key (replay.py), code and number fields and pages
(fields.py). Views import these from here."""

from core.api.errors import (
    bad_request,
    error,
    error_body,
    exception_handler,
    page_not_found,
    permission_denied,
    server_error,
)
from core.api.fields import (
    CODE_IN_URL,
    CodeField,
    Pagination,
    PlainDecimalField,
    PlainIntegerField,
)
from core.api.permissions import FieldPermission, HeadOfficeAndManagers
from core.api.replay import IDEMPOTENCY_HEADER, idempotency_key, idempotent

__all__ = [
    "CODE_IN_URL",
    "IDEMPOTENCY_HEADER",
    "CodeField",
    "FieldPermission",
    "HeadOfficeAndManagers",
    "Pagination",
    "PlainDecimalField",
    "PlainIntegerField",
    "bad_request",
    "error",
    "error_body",
    "exception_handler",
    "idempotency_key",
    "idempotent",
    "page_not_found",
    "permission_denied",
    "server_error",
]
