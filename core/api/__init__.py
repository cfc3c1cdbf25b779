"""What every API view shares: one error shape (errors.py), role permissions
(permissions.py), Idempotency-Key (replay.py), code and number fields and pages
(fields.py), and the viewset every posting endpoint is (viewsets.py). Views import these
from here."""

from typing import Any

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
    "PostingViewSet",
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


def __getattr__(name: str) -> Any:
    # PostingViewSet is imported on first use: DRF reads DEFAULT_PAGINATION_CLASS (this
    # package's Pagination) while rest_framework.generics is being imported, and the
    # viewset module imports rest_framework.viewsets, which needs generics whole.
    if name == "PostingViewSet":
        from core.api.viewsets import PostingViewSet

        return PostingViewSet
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
