"""The shape every field-API document endpoint shares: list and read what the role sees,
post once per Idempotency-Key (rate-limited as a write), answer 201 with the document."""

from typing import Any

from django.db.models import Model
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from core.api.fields import CODE_IN_URL
from core.api.permissions import FieldPermission
from core.api.replay import IDEMPOTENCY_HEADER, idempotency_key, idempotent
from core.models import User


class PostingViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """A subclass names its queryset, serializer and lookup_field, and implements
    `perform_post`: the one call to the service that posts the document. (Not `post`: a
    viewset binds its HTTP methods to actions by that name.)"""

    permission_classes = [FieldPermission]
    lookup_value_regex = CODE_IN_URL

    def get_throttles(self) -> list[BaseThrottle]:
        self.throttle_scope = "writes" if self.action == "create" else None
        return super().get_throttles()

    def perform_post(
        self, data: dict[str, Any], *, actor: User, idempotency_key: str | None
    ) -> Model:
        """Post the document from the serializer's validated data, as `actor` (the
        representative signed in), and return it as the response shows it."""
        raise NotImplementedError

    @extend_schema(parameters=[IDEMPOTENCY_HEADER])
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        posted = self.perform_post(
            serializer.validated_data,
            actor=request.user,
            idempotency_key=idempotency_key(request),
        )
        return Response(self.get_serializer(posted).data, status=201)
