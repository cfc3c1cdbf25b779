"""Field API for stock: what is on my vehicle, load sheets (collections) and empty
returns."""

from typing import Any

from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
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


class ProductSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    list_price = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        allow_null=True,
        read_only=True,
        help_text="What a customer without a contract rate pays; null: only customers "
        "with a rate can buy it.",
    )

    class Meta:
        model = Product
        fields = ("code", "name", "kind", "kind_label", "unit", "capacity_kg", "list_price")


class ProductViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The products on sale, for the handheld: which codes are cylinders (with empties
    and a deposit), bulk by meter reading, or services (installation, a delivery charge:
    no empties, never stocked), and their list prices."""

    permission_classes = [FieldPermission]
    serializer_class = ProductSerializer
    lookup_field = "code"
    lookup_value_regex = r"[^/\x00-\x1f]+"  # product codes have dots (12.7KG)
    queryset = Product.objects.filter(is_active=True).order_by("sort_order", "code")


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


OCCURRED_AT_EXAMPLE = "2026-11-30T09:15:00+08:00"


@extend_schema_field(
    {
        "type": "string",
        "format": "date-time",
        "nullable": True,
        "example": OCCURRED_AT_EXAMPLE,
        "description": "When the document happened on the handheld: ISO 8601 with its "
        "offset (or Z). Leave it out when posting live (it is then when the server "
        "posted it). At most SYNC_MAX_AGE_DAYS (default 7) ago and not in the future "
        "(5 minutes of clock skew allowed); a time without an offset is refused "
        "(occurred_at_naive). Rates, tax and deposits are those in force then; the "
        "number and its year follow the posting (created_at).",
    }
)
class OccurredAtField(serializers.DateTimeField):
    """When a document happened on the handheld (occurred_at): ISO 8601 with an offset.

    A time without an offset is not read in the server's time zone (DRF's default with
    USE_TZ): it is passed on naive, and the posting service refuses it with the code
    occurred_at_naive, keyed occurred_at. The window (future, too old) is the service's
    too (core.services.moments.occurred_moment)."""

    default_error_messages = {
        "invalid": "Give when it happened as a date and time with its offset, e.g. "
        f"{OCCURRED_AT_EXAMPLE}.",
        "date": f"Give a time as well as the date, with its offset, e.g. {OCCURRED_AT_EXAMPLE}.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            return value  # refused by the service (occurred_at_naive), never localised
        return super().enforce_timezone(value)


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
    occurred_at = OccurredAtField()

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
            "occurred_at",
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
                occurred_at=data.get("occurred_at"),
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
                occurred_at=data.get("occurred_at"),
            )
        return self.get_queryset().get(pk=posted.pk)  # with its lines, as listed
