"""Field API for stock: what is on my vehicle, collections and empty returns."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import CodeField, FieldPermission, PlainIntegerField, PostingViewSet
from core.api_scope import api_scope
from core.models import Depot, User
from stock.models import Distribution, DistributionKind, Product, StockLevel
from stock.services import MAX_QUANTITY, distribution_create


class StockLevelSerializer(serializers.ModelSerializer):
    depot = serializers.SlugRelatedField(slug_field="code", read_only=True)
    product = serializers.SlugRelatedField(slug_field="code", read_only=True)
    location = serializers.SerializerMethodField()

    class Meta:
        model = StockLevel
        fields = ("location", "depot", "product", "state", "quantity")

    def get_location(self, obj) -> str:
        return "vehicle" if obj.sales_rep_id else "depot"


class MyStockView(APIView):
    """A representative's vehicle and home depot; a manager's depots; head office all."""

    permission_classes = [FieldPermission]

    @extend_schema(responses=StockLevelSerializer(many=True))
    def get(self, request):
        levels = api_scope(
            StockLevel.objects.select_related("depot", "product"),
            request.user,
            own_field="sales_rep",
            with_home_depot=True,
        ).order_by("sales_rep_id", "depot__code", "product__sort_order", "state")
        return Response(StockLevelSerializer(levels, many=True).data)


class DistributionSerializer(serializers.ModelSerializer):
    depot = CodeField(queryset=Depot.objects.all())
    product = CodeField(queryset=Product.objects.all())
    kind = serializers.ChoiceField(choices=DistributionKind.choices)
    quantity = PlainIntegerField(min_value=1, max_value=MAX_QUANTITY)
    sales_rep = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Distribution
        fields = (
            "distribution_no",
            "kind",
            "depot",
            "product",
            "quantity",
            "sales_rep",
            "created_at",
        )
        read_only_fields = ("distribution_no", "sales_rep", "created_at")


class DistributionViewSet(PostingViewSet):
    """Collections (depot full -> my vehicle) and empty returns (my vehicle -> depot)."""

    queryset = Distribution.objects.none()  # for the schema; see get_queryset
    serializer_class = DistributionSerializer
    lookup_field = "distribution_no"

    def get_queryset(self):
        return api_scope(
            Distribution.objects.select_related("depot", "product", "sales_rep"),
            self.request.user,
            own_field="sales_rep",
        ).order_by("-id")

    def perform_post(
        self, data: dict[str, Any], *, actor: User, idempotency_key: str | None
    ) -> Distribution:
        return distribution_create(
            sales_rep=actor,
            depot=data["depot"],
            product=data["product"],
            quantity=data["quantity"],
            kind=data["kind"],
            actor=actor,
            idempotency_key=idempotency_key,
        )
