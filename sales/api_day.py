"""Field API for the end of the representative's day: `POST /api/cashups/` (their own
cash-up), `GET /api/cashups/` (theirs; managers their depots', head office all) and
`GET /api/me/day/?date=YYYY-MM-DD` (what the handheld shows before the cash-up)."""

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import FieldPermission, PostingViewSet, error
from core.api.fields import PlainDecimalField
from core.api_scope import api_scope
from core.dates import date_problem
from core.models import Role, User
from sales.day_models import CashUp
from sales.day_selectors import representative_day
from sales.services import cashup_post
from sales.services.common import MAX_AMOUNT

MONEY_OUT: dict[str, Any] = {"max_digits": 14, "decimal_places": 2, "read_only": True}


class CashUpSerializer(serializers.ModelSerializer):
    """A cash-up: the cash counted (what the representative hands in) against the cash
    the system expected since their previous cash-up. variance = counted - expected:
    below 0 is short."""

    counted_cash = PlainDecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=MAX_AMOUNT,
        help_text='The cash handed in, counted: a plain decimal string such as "12500.50".',
    )
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    sales_rep = serializers.SlugRelatedField(slug_field="username", read_only=True)
    depot = serializers.SlugRelatedField(slug_field="code", read_only=True)
    cash_sales = serializers.DecimalField(
        **MONEY_OUT, help_text="Cash sales since the previous cash-up, less their voids."
    )
    cash_payments = serializers.DecimalField(
        **MONEY_OUT, help_text="Cash payments received, less those reversed."
    )
    cash_refunds = serializers.DecimalField(
        **MONEY_OUT, help_text="Deposits refunded in cash (returns, sales, voids)."
    )
    expected_cash = serializers.DecimalField(**MONEY_OUT)
    variance = serializers.DecimalField(**MONEY_OUT, help_text="Counted less expected.")
    confirmed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CashUp
        fields = (
            "number",
            "sales_rep",
            "depot",
            "period_start",
            "created_at",
            "cash_sales",
            "cash_payments",
            "cash_refunds",
            "expected_cash",
            "counted_cash",
            "variance",
            "note",
            "status",
            "confirmed_by",
            "confirmed_at",
            "confirm_note",
        )
        read_only_fields = (
            "number",
            "period_start",
            "created_at",
            "status",
            "confirmed_at",
            "confirm_note",
        )


CASHUP_REQUEST = OpenApiExample(
    "A cash-up",
    value={"counted_cash": "12450.00", "note": "50.00 short: change given twice"},
    request_only=True,
)
CASHUP_RESPONSE = OpenApiExample(
    "Posted, 50.00 short",
    value={
        "number": "CU-2026-000042",
        "sales_rep": "northrep",
        "depot": "NORTH",
        "period_start": "2026-11-30T18:02:11+05:30",
        "created_at": "2026-12-01T18:05:40+05:30",
        "cash_sales": "11900.00",
        "cash_payments": "1000.00",
        "cash_refunds": "400.00",
        "expected_cash": "12500.00",
        "counted_cash": "12450.00",
        "variance": "-50.00",
        "note": "50.00 short: change given twice",
        "status": "POSTED",
        "confirmed_by": None,
        "confirmed_at": None,
        "confirm_note": "",
    },
    response_only=True,
)


@extend_schema(examples=[CASHUP_REQUEST, CASHUP_RESPONSE])
class CashUpViewSet(PostingViewSet):
    """End-of-day cash-ups. A representative posts their own (what they counted; the
    expected figures are the system's) and lists theirs; managers list their depots',
    head office all. A manager confirms a cash-up in the admin."""

    queryset = CashUp.objects.none()  # for the schema; see get_queryset
    serializer_class = CashUpSerializer
    permission_classes = [FieldPermission]
    lookup_field = "number"

    def get_queryset(self):
        return api_scope(
            CashUp.objects.select_related("sales_rep", "depot", "confirmed_by"),
            self.request.user,
            own_field="sales_rep",
        ).order_by("-id")

    def perform_post(
        self, data: dict[str, Any], *, actor: User, idempotency_key: str | None
    ) -> CashUp:
        return cashup_post(
            sales_rep=actor,
            counted_cash=data["counted_cash"],
            note=data.get("note", ""),
            actor=actor,
            idempotency_key=idempotency_key,
        )


# --- The day ---------------------------------------------------------------------------


class _SaleRow(serializers.Serializer):
    number = serializers.CharField()
    customer = serializers.CharField(help_text="The customer's code.")
    payment_type = serializers.CharField()
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    status = serializers.CharField(help_text="POSTED or VOID.")
    occurred_at = serializers.DateTimeField()


class _PaymentRow(serializers.Serializer):
    number = serializers.CharField()
    customer = serializers.CharField()
    method = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    reversed = serializers.BooleanField()
    occurred_at = serializers.DateTimeField()


class _ReturnRow(serializers.Serializer):
    number = serializers.CharField()
    customer = serializers.CharField()
    cylinders = serializers.IntegerField()
    refund = serializers.DecimalField(max_digits=14, decimal_places=2)
    refund_to = serializers.CharField(help_text='ACCOUNT, CASH or "" (none refunded).')
    occurred_at = serializers.DateTimeField()


class _DistributionRow(serializers.Serializer):
    number = serializers.CharField()
    kind = serializers.CharField(help_text="COLLECTION (loaded) or RETURN (brought back).")
    cylinders = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()


class _Totals(serializers.Serializer):
    sales = serializers.IntegerField(help_text="Sales posted (not voided).")
    voided = serializers.IntegerField()
    cash_sales = serializers.DecimalField(max_digits=14, decimal_places=2)
    credit_sales = serializers.DecimalField(max_digits=14, decimal_places=2)
    payments = serializers.DecimalField(max_digits=14, decimal_places=2)
    cash_payments = serializers.DecimalField(max_digits=14, decimal_places=2)
    returns = serializers.IntegerField()
    refunds = serializers.DecimalField(max_digits=14, decimal_places=2)
    distributions = serializers.IntegerField()


class _Cash(serializers.Serializer):
    since = serializers.DateTimeField(
        allow_null=True, help_text="The previous cash-up (null: none yet)."
    )
    cash_sales = serializers.DecimalField(max_digits=14, decimal_places=2)
    cash_payments = serializers.DecimalField(max_digits=14, decimal_places=2)
    cash_refunds = serializers.DecimalField(max_digits=14, decimal_places=2)
    expected = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="What a cash-up now would expect."
    )


class _Stock(serializers.Serializer):
    product = serializers.CharField()
    state = serializers.CharField(help_text="FULL or EMPTY.")
    quantity = serializers.IntegerField()


class _Customer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class DaySerializer(serializers.Serializer):
    """The representative's day: documents dated by when they happened (occurred_at, in
    the business time zone), the cash they should hand in now, and the vehicle's stock
    at the start of the day and at its end (now, for today)."""

    date = serializers.DateField()
    sales = _SaleRow(many=True)
    payments = _PaymentRow(many=True)
    returns = _ReturnRow(many=True)
    distributions = _DistributionRow(many=True)
    totals = _Totals()
    cash = _Cash()
    vehicle_start = _Stock(many=True)
    vehicle_end = _Stock(many=True)
    customers_visited = _Customer(many=True)


DAY_EXAMPLE = OpenApiExample(
    "A short day",
    value={
        "date": "2026-12-01",
        "sales": [
            {
                "number": "TX-2026-000311",
                "customer": "C014",
                "payment_type": "CASH",
                "total": "3300.00",
                "status": "POSTED",
                "occurred_at": "2026-12-01T09:12:00+05:30",
            }
        ],
        "payments": [
            {
                "number": "PAY-2026-000120",
                "customer": "C020",
                "method": "CASH",
                "amount": "5000.00",
                "reversed": False,
                "occurred_at": "2026-12-01T11:40:00+05:30",
            }
        ],
        "returns": [],
        "distributions": [
            {
                "number": "DST-2026-000077",
                "kind": "COLLECTION",
                "cylinders": 20,
                "occurred_at": "2026-12-01T07:30:00+05:30",
            }
        ],
        "totals": {
            "sales": 1,
            "voided": 0,
            "cash_sales": "3300.00",
            "credit_sales": "0.00",
            "payments": "5000.00",
            "cash_payments": "5000.00",
            "returns": 0,
            "refunds": "0.00",
            "distributions": 1,
        },
        "cash": {
            "since": "2026-11-30T18:02:11+05:30",
            "cash_sales": "3300.00",
            "cash_payments": "5000.00",
            "cash_refunds": "0.00",
            "expected": "8300.00",
        },
        "vehicle_start": [],
        "vehicle_end": [
            {"product": "12.7KG", "state": "EMPTY", "quantity": 1},
            {"product": "12.7KG", "state": "FULL", "quantity": 19},
        ],
        "customers_visited": [
            {"code": "C014", "name": "Perera Stores"},
            {"code": "C020", "name": "Silva Hardware"},
        ],
    },
    response_only=True,
)


class MyDayView(APIView):
    """The signed-in representative's day (default today). Managers and head office
    have no day of their own: 403."""

    permission_classes = [FieldPermission]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "date",
                OpenApiTypes.DATE,
                description="The day, YYYY-MM-DD (default: today in the business time zone).",
            )
        ],
        responses=DaySerializer,
        examples=[DAY_EXAMPLE],
    )
    def get(self, request: Request) -> Response:
        if request.user.role != Role.SALES:
            return error(403, "permission_denied", "Only a sales representative has a day.")
        text = request.query_params.get("date")
        day: date = timezone.localdate()
        if text is not None:
            parsed = _day(text, today=day)
            if isinstance(parsed, str):
                return error(400, "invalid", parsed, {"date": [parsed]})
            day = parsed
        data = representative_day(sales_rep=request.user, day=day)
        return Response(DaySerializer(data).data)


EARLIEST = date(2000, 1, 1)
_DATE_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits only


def _day(text: str, *, today: date) -> date | str:
    """The day asked for, or why it is refused (a message for `date`)."""
    text = text.strip()
    problem = date_problem(text)
    if problem:
        return problem
    if not _DATE_SHAPE.fullmatch(text):
        return f"Enter the date as YYYY-MM-DD (e.g. {today.isoformat()}); got {text[:40]!r}."
    try:
        day = date.fromisoformat(text)
    except ValueError:  # year 0000 and the like
        return f"The date {text} does not exist: check the year."
    if day > today:
        return f"The date {text} is after today ({today.isoformat()}): it has no documents yet."
    if day < EARLIEST:
        return f"The date {text} is before {EARLIEST.isoformat()}: check the year."
    return day
