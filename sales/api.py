"""Field API for sales: customers (with their rates), sales and payments."""

from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q
from django.utils.functional import cached_property
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, viewsets

from core.api import (
    CODE_IN_URL,
    CodeField,
    FieldPermission,
    PlainDecimalField,
    PlainIntegerField,
    PostingViewSet,
)
from core.api_scope import api_scope
from core.models import User
from sales.models import Customer, CylinderHolding, Payment, PaymentMethod, Transaction
from sales.selectors import customers_with_account, listed_rates
from sales.services import payment_record, sale_post
from sales.services.common import MAX_AMOUNT, MAX_READING
from stock.api import OccurredAtField
from stock.models import Product
from stock.services import MAX_QUANTITY
from stock.services.lines import MAX_LINES


def visible_customers(user):
    return api_scope(Customer.objects.filter(is_active=True).select_related("depot"), user)


class HoldingSerializer(serializers.Serializer):
    product = serializers.CharField(source="product.code")
    quantity = serializers.IntegerField(help_text="Cylinders the customer holds.")
    deposit_held = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="The deposit they paid on them."
    )
    last_movement_at = serializers.DateTimeField(allow_null=True)


class CustomerSerializer(serializers.ModelSerializer):
    depot = serializers.SlugRelatedField(slug_field="code", read_only=True)
    balance = serializers.SerializerMethodField()
    rates = serializers.SerializerMethodField()
    holdings = HoldingSerializer(many=True, read_only=True, source="held")
    deposit_held = serializers.SerializerMethodField(
        help_text="The deposit held for the customer on all their cylinders."
    )

    class Meta:
        model = Customer
        fields = (
            "code",
            "name",
            "address",
            "phone",
            "email",
            "depot",
            "payment_type",
            "credit_limit",
            "last_meter_reading",
            "balance",
            "rates",
            "deposit_exempt",
            "holdings",
            "deposit_held",
        )

    def get_balance(self, obj) -> str:
        return f"{obj.balance_value:.2f}"  # amounts are decimal strings

    def get_deposit_held(self, obj) -> str:
        return f"{sum((held.deposit_held for held in obj.held), Decimal('0')):.2f}"

    @extend_schema_field(
        serializers.DictField(child=serializers.DecimalField(max_digits=14, decimal_places=2))
    )
    def get_rates(self, obj):
        return {
            code: f"{rate:.2f}"
            for code, rate in listed_rates(obj, self.context["products"]).items()
        }


class CustomerViewSet(viewsets.ReadOnlyModelViewSet):
    """The customers a representative may sell to (their depot's), with rates in force."""

    queryset = Customer.objects.none()  # for the schema; see get_queryset
    serializer_class = CustomerSerializer
    permission_classes = [FieldPermission]
    lookup_field = "code"
    lookup_value_regex = CODE_IN_URL

    def get_queryset(self):
        # Balance and rates come with the page's one query (no query per customer), the
        # cylinders held with one more for the page.
        held = (
            CylinderHolding.objects.filter(~Q(quantity=0) | ~Q(deposit_held=0))
            .select_related("product")
            .order_by("product__sort_order", "product__code")
        )
        return customers_with_account(
            visible_customers(self.request.user).order_by("code"), products=self.products
        ).prefetch_related(Prefetch("holdings", queryset=held, to_attr="held"))

    @cached_property
    def products(self):
        return list(Product.objects.filter(is_active=True))

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "products": self.products}


class LineSerializer(serializers.Serializer):
    product = CodeField(queryset=Product.objects.all())
    quantity = PlainIntegerField(min_value=1, max_value=MAX_QUANTITY)
    empties_returned = PlainIntegerField(min_value=0, max_value=MAX_QUANTITY, required=False)


class SaleLineOutSerializer(serializers.Serializer):
    product = serializers.CharField(source="product.code")
    quantity = serializers.IntegerField()
    empties_returned = serializers.IntegerField()
    rate = serializers.DecimalField(max_digits=14, decimal_places=2)
    subtotal = serializers.DecimalField(max_digits=14, decimal_places=2)


class MeterOutSerializer(serializers.Serializer):
    last_reading = serializers.DecimalField(max_digits=12, decimal_places=2)
    latest_reading = serializers.DecimalField(max_digits=12, decimal_places=2)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2)
    rate = serializers.DecimalField(max_digits=14, decimal_places=2)
    subtotal = serializers.DecimalField(max_digits=14, decimal_places=2)


class SaleSerializer(serializers.ModelSerializer):
    customer = CodeField(queryset=Customer.objects.none())
    lines = LineSerializer(many=True, required=False, write_only=True, max_length=MAX_LINES)
    meter_reading = PlainDecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        allow_null=True,
        min_value=0,
        max_value=MAX_READING,
        write_only=True,
    )
    sales_rep = serializers.SlugRelatedField(slug_field="username", read_only=True)
    depot = serializers.SlugRelatedField(slug_field="code", read_only=True)
    sold = SaleLineOutSerializer(source="lines", many=True, read_only=True)
    meter_sale = serializers.SerializerMethodField()
    occurred_at = OccurredAtField()

    class Meta:
        model = Transaction
        fields = (
            "number",
            "customer",
            "lines",
            "meter_reading",
            "sales_rep",
            "depot",
            "payment_type",
            "net_amount",
            "tax_rate",
            "tax_amount",
            "deposit_amount",
            "deposit_refund",
            "total_amount",
            "amount_paid",
            "is_paid",
            "status",
            "occurred_at",
            "created_at",
            "sold",
            "meter_sale",
        )
        read_only_fields = (
            "number",
            "payment_type",
            "net_amount",
            "tax_rate",
            "tax_amount",
            "deposit_amount",
            "deposit_refund",
            "total_amount",
            "amount_paid",
            "is_paid",
            "status",
            "created_at",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["customer"].queryset = visible_customers(request.user)

    @extend_schema_field(MeterOutSerializer(allow_null=True))
    def get_meter_sale(self, obj):
        meter = getattr(obj, "meter_sale", None)
        return MeterOutSerializer(meter).data if meter is not None else None


class SaleViewSet(PostingViewSet):
    """Sales: a representative posts as themselves (cylinders from their vehicle, and/or a
    meter reading) and sees their own; managers and head office read."""

    queryset = Transaction.objects.none()  # for the schema; see get_queryset
    serializer_class = SaleSerializer
    lookup_field = "number"

    def get_queryset(self):
        return api_scope(
            Transaction.objects.select_related(
                "customer", "sales_rep", "depot", "meter_sale"
            ).prefetch_related("lines__product"),
            self.request.user,
            own_field="sales_rep",
        ).order_by("-id")

    def perform_post(
        self, data: dict[str, Any], *, actor: User, idempotency_key: str | None
    ) -> Transaction:
        sale = sale_post(
            customer=data["customer"],
            sales_rep=actor,
            actor=actor,
            lines=[dict(line) for line in data.get("lines", [])],
            meter_reading=data.get("meter_reading"),
            idempotency_key=idempotency_key,
            occurred_at=data.get("occurred_at"),
        )
        return self.get_queryset().get(pk=sale.pk)  # with its lines, as listed


class PaymentSerializer(serializers.ModelSerializer):
    customer = CodeField(queryset=Customer.objects.none())
    amount = PlainDecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0.01"), max_value=MAX_AMOUNT
    )
    method = serializers.ChoiceField(choices=PaymentMethod.choices, default="CASH")
    received_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    reversed = serializers.SerializerMethodField(
        help_text="True once the payment was reversed (a bounced cheque, a mistaken entry)."
    )
    reversed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    received_on = serializers.DateField(
        required=False,
        help_text="The day the money came (YYYY-MM-DD). Default: the day of occurred_at, "
        "else today. At most PAYMENT_BACKDATE_DAYS back, never in the future.",
    )
    occurred_at = OccurredAtField()

    class Meta:
        model = Payment
        fields = (
            "number",
            "customer",
            "amount",
            "method",
            "reference",
            "received_on",
            "allocated",
            "received_by",
            "occurred_at",
            "created_at",
            "reversed",
            "reversed_at",
            "reversed_by",
            "reversal_reason",
        )
        read_only_fields = (
            "number",
            "allocated",
            "received_by",
            "created_at",
            "reversed_at",
            "reversal_reason",
        )

    def get_reversed(self, obj) -> bool:
        return obj.reversed_at is not None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["customer"].queryset = visible_customers(request.user)


class PaymentViewSet(PostingViewSet):
    """Money collected from customers; it settles their oldest unpaid credit sales."""

    queryset = Payment.objects.none()  # for the schema; see get_queryset
    serializer_class = PaymentSerializer
    lookup_field = "number"

    def get_queryset(self):
        return api_scope(
            Payment.objects.select_related("customer", "received_by", "reversed_by"),
            self.request.user,
            own_field="received_by",
        ).order_by("-id")

    def perform_post(
        self, data: dict[str, Any], *, actor: User, idempotency_key: str | None
    ) -> Payment:
        return payment_record(
            customer=data["customer"],
            amount=data["amount"],
            actor=actor,
            method=data["method"],
            reference=data.get("reference", ""),
            received_on=data.get("received_on"),
            idempotency_key=idempotency_key,
            occurred_at=data.get("occurred_at"),
        )
