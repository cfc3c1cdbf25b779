"""Field API for cylinder returns (RET-): empties taken back from a customer without a
sale. The representative posts their own; a depot manager or head office may post one
for a representative of their depots, naming them ("sales_rep")."""

from typing import Any

from rest_framework import serializers

from core.api import CodeField, FieldPermission, PlainIntegerField, PostingViewSet
from core.api_scope import api_scope
from core.models import Role, User
from core.scoping import scope_queryset
from sales.models import Customer, CylinderReturn
from sales.services import cylinder_return
from stock.api import OccurredAtField
from stock.models import Product
from stock.services import MAX_QUANTITY
from stock.services.lines import MAX_LINES


class ReturnPermission(FieldPermission):
    """Anyone active reads what their role sees; a representative posts as themselves,
    a manager or head office on a representative's behalf (the service checks depots)."""

    message = "Only sales representatives, their depot managers and head office post returns."

    def has_permission(self, request, view):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return super().has_permission(request, view)
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and user.is_active
            and (user.is_superuser or user.role in (Role.SALES, Role.MANAGER, Role.ADMIN))
        )


class RepField(serializers.SlugRelatedField):
    """A representative named by username, among those the caller may act for."""

    def to_internal_value(self, data):
        if not isinstance(data, str) or "\x00" in data or len(data) > 150 or not data.strip():
            raise serializers.ValidationError(
                "Give the representative's username as text.", code="invalid"
            )
        found = self.get_queryset().filter(username=data).first()
        if found is None:
            raise serializers.ValidationError(
                f"No sales representative {data} among yours.", code="does_not_exist"
            )
        return found


class ReturnLineSerializer(serializers.Serializer):
    product = CodeField(queryset=Product.objects.all())
    quantity = PlainIntegerField(min_value=1, max_value=MAX_QUANTITY)


class ReturnLineOutSerializer(serializers.Serializer):
    product = serializers.CharField(source="product.code")
    quantity = serializers.IntegerField()
    refund = serializers.DecimalField(max_digits=14, decimal_places=2)


class CylinderReturnSerializer(serializers.ModelSerializer):
    customer = CodeField(queryset=Customer.objects.none())
    lines = ReturnLineSerializer(many=True, write_only=True, max_length=MAX_LINES)
    sales_rep = RepField(
        slug_field="username",
        queryset=User.objects.none(),
        required=False,
        help_text="Managers and head office: the representative who took the cylinders "
        "back. A representative posting their own leaves it out.",
    )
    depot = serializers.SlugRelatedField(slug_field="code", read_only=True)
    returned = ReturnLineOutSerializer(source="lines", many=True, read_only=True)
    occurred_at = OccurredAtField()

    class Meta:
        model = CylinderReturn
        fields = (
            "number",
            "customer",
            "lines",
            "sales_rep",
            "depot",
            "refund_amount",
            "refund_to",
            "occurred_at",
            "created_at",
            "returned",
        )
        read_only_fields = ("number", "refund_amount", "refund_to", "created_at")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            user = request.user
            # A closed customer's cylinders can still come back (their deposit refunded):
            # every customer the caller may see, open or closed.
            self.fields["customer"].queryset = api_scope(
                Customer.objects.select_related("depot"), user
            )
            reps = User.objects.filter(role=Role.SALES, is_active=True)
            self.fields["sales_rep"].queryset = (
                reps.filter(pk=user.pk) if user.role == Role.SALES else scope_queryset(reps, user)
            )

    def validate(self, attrs):
        request = self.context["request"]
        if "sales_rep" not in attrs:
            if request.user.role != Role.SALES:
                raise serializers.ValidationError(
                    {"sales_rep": "Name the representative who took the cylinders back."},
                    code="required",
                )
            attrs["sales_rep"] = request.user
        return attrs


class CylinderReturnViewSet(PostingViewSet):
    """Cylinder returns: a representative sees their own, managers their depots', head
    office all; posting refunds the deposit the customer paid on them."""

    queryset = CylinderReturn.objects.none()  # for the schema; see get_queryset
    serializer_class = CylinderReturnSerializer
    permission_classes = [ReturnPermission]
    lookup_field = "number"

    def get_queryset(self):
        return api_scope(
            CylinderReturn.objects.select_related(
                "customer", "sales_rep", "depot"
            ).prefetch_related("lines__product"),
            self.request.user,
            own_field="sales_rep",
        ).order_by("-id")

    def perform_post(
        self, data: dict[str, Any], *, actor: User, idempotency_key: str | None
    ) -> CylinderReturn:
        returned = cylinder_return(
            customer=data["customer"],
            sales_rep=data["sales_rep"],
            lines=[dict(line) for line in data["lines"]],
            actor=actor,
            idempotency_key=idempotency_key,
            occurred_at=data.get("occurred_at"),
        )
        return self.get_queryset().get(pk=returned.pk)  # with its lines, as listed
