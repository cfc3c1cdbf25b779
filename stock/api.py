"""Field API for stock: what is on my vehicle, load sheets (collections) and empty
returns."""

from typing import Any

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import CodeField, FieldPermission, PlainIntegerField, PostingViewSet
from core.api_scope import api_scope
from core.models import Depot, User
from stock.models import (
    Distribution,
    DistributionKind,
    DistributionLine,
    Product,
    StockLevel,
)
from stock.services import (
    MAX_QUANTITY,
    distribution_create,
    distribution_post,
    sales_rep_home_depot,
)
from stock.services.lines import MAX_LINES


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


class DistributionLineSerializer(serializers.Serializer):
    product = CodeField(queryset=Product.objects.all())
    quantity = PlainIntegerField(min_value=1, max_value=MAX_QUANTITY)


class DistributionSerializer(serializers.ModelSerializer):
    """A load sheet or empty return: `lines` (one per product), or the one-line body
    `product` and `quantity` as before. `depot` defaults to the representative's own.
    The response shows the document's number and its lines; `product` is set only on a
    one-line document, `quantity` is the cylinders of all its lines."""

    number = serializers.CharField(source="distribution_no", read_only=True)
    depot = CodeField(queryset=Depot.objects.all(), required=False)
    product = CodeField(queryset=Product.objects.all(), required=False, allow_null=True)
    kind = serializers.ChoiceField(choices=DistributionKind.choices)
    quantity = PlainIntegerField(min_value=1, max_value=MAX_QUANTITY, required=False)
    lines = DistributionLineSerializer(many=True, required=False, max_length=MAX_LINES)
    sales_rep = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Distribution
        fields = (
            "number",
            "distribution_no",
            "kind",
            "depot",
            "product",
            "quantity",
            "lines",
            "sales_rep",
            "created_at",
        )
        read_only_fields = ("distribution_no", "sales_rep", "created_at")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        one_line = {name: attrs.get(name) for name in ("product", "quantity")}
        if "lines" in attrs:
            given = [name for name, value in one_line.items() if value is not None]
            if given:
                raise serializers.ValidationError(
                    dict.fromkeys(
                        given, "Send either lines, or one product and quantity; not both."
                    ),
                    code="invalid",
                )
            if not attrs["lines"]:
                raise serializers.ValidationError(
                    {"lines": "Add at least one line."}, code="invalid"
                )
            return attrs
        missing = [name for name, value in one_line.items() if value is None]
        if missing:
            raise serializers.ValidationError(
                dict.fromkeys(missing, "This field is required (or send lines)."),
                code="invalid",
            )
        return attrs

    def to_representation(self, instance: Distribution) -> dict[str, Any]:
        data = super().to_representation(instance)
        if not data["lines"] and instance.product_id is not None:
            # Posted before distributions had lines: its one product is its line.
            data["lines"] = [{"product": instance.product.code, "quantity": instance.quantity}]
        return data


class DistributionViewSet(PostingViewSet):
    """Collections (depot full -> my vehicle) and empty returns (my vehicle -> depot),
    one product or several on one DST- document."""

    queryset = Distribution.objects.none()  # for the schema; see get_queryset
    serializer_class = DistributionSerializer
    lookup_field = "distribution_no"

    def get_queryset(self):
        return api_scope(
            Distribution.objects.select_related("depot", "product", "sales_rep").prefetch_related(
                Prefetch("lines", queryset=DistributionLine.objects.select_related("product"))
            ),
            self.request.user,
            own_field="sales_rep",
        ).order_by("-id")

    def perform_post(
        self, data: dict[str, Any], *, actor: User, idempotency_key: str | None
    ) -> Distribution:
        depot = data.get("depot") or sales_rep_home_depot(actor, lock=False)
        if "lines" in data:
            posted = distribution_post(
                sales_rep=actor,
                depot=depot,
                kind=data["kind"],
                lines=[dict(line) for line in data["lines"]],
                actor=actor,
                idempotency_key=idempotency_key,
            )
        else:
            posted = distribution_create(
                sales_rep=actor,
                depot=depot,
                product=data["product"],
                quantity=data["quantity"],
                kind=data["kind"],
                actor=actor,
                idempotency_key=idempotency_key,
            )
        return self.get_queryset().get(pk=posted.pk)  # with its lines, as listed
