"""OpenAPI for POST /api/sync/ (sales.api_sync): the request, each document type's
fields (those of its own endpoint, plus client_id and type), the results, and examples
of a posted, a replayed and a refused document, so that a handheld can be built against
the schema alone."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, PolymorphicProxySerializer
from rest_framework import serializers

from sales.api import PaymentSerializer, SaleSerializer
from sales.api_returns import CylinderReturnSerializer
from stock.api import DistributionSerializer

CLIENT_ID_HELP = (
    "Your own id for this document (a UUID), at most 100 characters, unique in the batch. "
    "It is the document's idempotency key, for good: sent again with the same fields, the "
    "document is not posted twice (status replayed, with its number); sent with other "
    "fields, it is refused (idempotency_key_reused). It shares the keys you send as "
    "Idempotency-Key headers."
)
OCCURRED_HELP = (
    "When it happened on the handheld, ISO 8601 with its time zone "
    "(2026-11-30T09:15:00+08:00); rates, tax and deposits are those in force then. Not in "
    "the future, not older than SYNC_MAX_AGE_DAYS (7)."
)


def _document(base: type[serializers.ModelSerializer], name: str, type_value: str, doc: str):
    """`base` (the type's own endpoint serializer) with client_id and type before it."""
    fields = ("client_id", "type", *base.Meta.fields)
    if "occurred_at" not in fields:
        fields = (*fields, "occurred_at")
    attrs = {
        "__doc__": doc,
        "__module__": __name__,
        "client_id": serializers.CharField(max_length=100, help_text=CLIENT_ID_HELP),
        "type": serializers.ChoiceField(choices=[type_value], help_text="The document's type."),
        "Meta": type("Meta", (base.Meta,), {"fields": fields}),
    }
    if "occurred_at" not in base._declared_fields:
        attrs["occurred_at"] = serializers.DateTimeField(required=False, help_text=OCCURRED_HELP)
    return type(name, (base,), attrs)


SaleDocument = _document(
    SaleSerializer,
    "SyncSale",
    "sale",
    "A sale, as POST /api/sales/ takes it: cylinder lines from the vehicle and/or a meter reading.",
)
PaymentDocument = _document(
    PaymentSerializer,
    "SyncPayment",
    "payment",
    "Money received from a customer, as POST /api/payments/ takes it.",
)
DistributionDocument = _document(
    DistributionSerializer,
    "SyncDistribution",
    "distribution",
    "A load sheet (COLLECTION: full cylinders from the depot onto the vehicle) or an "
    "empty return (EMPTY_RETURN), as POST /api/distributions/ takes it.",
)
ReturnDocument = _document(
    CylinderReturnSerializer,
    "SyncReturn",
    "return",
    "Empties taken back from a customer without a sale, as POST /api/returns/ takes it.",
)

SyncDocument = PolymorphicProxySerializer(
    component_name="SyncDocument",
    serializers={
        "sale": SaleDocument,
        "payment": PaymentDocument,
        "distribution": DistributionDocument,
        "return": ReturnDocument,
    },
    resource_type_field_name="type",
)


class SyncRequestSerializer(serializers.Serializer):
    documents = serializers.ListField(
        child=SyncDocument,
        min_length=1,
        max_length=500,
        help_text="1 to 500 documents, in the order they happened: a document may use "
        "what an earlier one did (a sale of cylinders collected on a load sheet earlier "
        "in the batch). A malformed batch (a document without client_id, an unknown "
        "type, a client_id twice, more than 500) is refused whole with a 400 naming "
        "documents[i].field, and nothing is posted.",
    )


class ErrorSerializer(serializers.Serializer):
    status = serializers.IntegerField(
        help_text="The HTTP status its own endpoint would have answered (400, 403, 409...)."
    )
    code = serializers.CharField(
        help_text="What went wrong, for the handheld to branch on (docs/error-codes.md): "
        "insufficient_stock, credit_limit, invalid, idempotency_key_reused, "
        "occurred_at_too_old, database_busy..."
    )
    message = serializers.CharField(help_text="For the person holding the handheld.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="The document's fields at fault (lines[0].quantity), with their messages.",
    )


class SyncResultSerializer(serializers.Serializer):
    client_id = serializers.CharField(help_text="The document's client_id, as sent.")
    status = serializers.ChoiceField(
        choices=["posted", "replayed", "refused"],
        help_text="posted: posted now. replayed: posted before with this client_id (by an "
        "earlier sync, or another handheld of yours); nothing new was posted. refused: "
        "not posted, and the client_id is not used: correct it and send it again, or "
        "leave it to your manager, who sees it in the sync refusals.",
    )
    number = serializers.CharField(
        allow_null=True,
        help_text="The document's number (TX-, PAY-, DST-, RET-); null when refused.",
    )
    error = ErrorSerializer(allow_null=True, help_text="Why it was refused; null otherwise.")


class SyncResponseSerializer(serializers.Serializer):
    results = SyncResultSerializer(many=True, help_text="One per document, in order.")


class ErrorEnvelopeSerializer(serializers.Serializer):
    error = ErrorSerializer()


REQUEST_EXAMPLE = OpenApiExample(
    "Batch",
    summary="A morning load, a sale from it, a payment and a return",
    request_only=True,
    value={
        "documents": [
            {
                "client_id": "6f1c0a52-8f0e-4c52-9d55-0c6a3f1f7a01",
                "type": "distribution",
                "occurred_at": "2026-11-30T07:30:00+08:00",
                "kind": "COLLECTION",
                "lines": [{"product": "12.7KG", "quantity": 20}],
            },
            {
                "client_id": "6f1c0a52-8f0e-4c52-9d55-0c6a3f1f7a02",
                "type": "sale",
                "occurred_at": "2026-11-30T09:15:00+08:00",
                "customer": "C001",
                "lines": [{"product": "12.7KG", "quantity": 2, "empties_returned": 2}],
            },
            {
                "client_id": "6f1c0a52-8f0e-4c52-9d55-0c6a3f1f7a03",
                "type": "payment",
                "occurred_at": "2026-11-30T09:20:00+08:00",
                "customer": "C002",
                "amount": "1500.00",
                "method": "CASH",
            },
            {
                "client_id": "6f1c0a52-8f0e-4c52-9d55-0c6a3f1f7a04",
                "type": "return",
                "occurred_at": "2026-11-30T10:05:00+08:00",
                "customer": "C003",
                "lines": [{"product": "12.7KG", "quantity": 1}],
            },
        ]
    },
)
RESPONSE_EXAMPLE = OpenApiExample(
    "Results",
    summary="Posted, replayed and refused",
    response_only=True,
    status_codes=["200"],
    value={
        "results": [
            {
                "client_id": "6f1c0a52-8f0e-4c52-9d55-0c6a3f1f7a01",
                "status": "replayed",
                "number": "DST-2026-000412",
                "error": None,
            },
            {
                "client_id": "6f1c0a52-8f0e-4c52-9d55-0c6a3f1f7a02",
                "status": "posted",
                "number": "TX-2026-001873",
                "error": None,
            },
            {
                "client_id": "6f1c0a52-8f0e-4c52-9d55-0c6a3f1f7a03",
                "status": "refused",
                "number": None,
                "error": {
                    "status": 400,
                    "code": "cash_customer_owes_nothing",
                    "message": "C002 is a cash customer who owes nothing.",
                    "fields": {"customer": ["C002 is a cash customer who owes nothing."]},
                },
            },
            {
                "client_id": "6f1c0a52-8f0e-4c52-9d55-0c6a3f1f7a04",
                "status": "posted",
                "number": "RET-2026-000057",
                "error": None,
            },
        ]
    },
)
MALFORMED_EXAMPLE = OpenApiExample(
    "Malformed",
    summary="A malformed batch (nothing posted)",
    response_only=True,
    status_codes=["400"],
    value={
        "error": {
            "status": 400,
            "code": "invalid",
            "message": "The same client_id as documents[0]: each document in a batch has its own.",
            "fields": {
                "documents[3].client_id": [
                    "The same client_id as documents[0]: each document in a batch has its own."
                ],
                "documents[5].type": [
                    'The type is one of sale, payment, distribution, return; "refund" sent.'
                ],
            },
        }
    },
)

SYNC_SCHEMA = {
    "operation_id": "sync_create",
    "summary": "Send a handheld's documents captured offline",
    "description": (
        "Posts the documents in order, each on its own (its own transaction): one "
        "document's refusal never stops the others. Each is posted exactly as its own "
        "endpoint posts it (POST /api/sales/, /api/payments/, /api/distributions/, "
        "/api/returns/), as you, with its client_id as its Idempotency-Key. The answer "
        "is 200 with one result per document, in order: posted (its number), replayed "
        "(the number it already had) or refused (the error its own endpoint would give: "
        "code, message, fields; number null). Sending a whole batch again is safe: what "
        "was posted replays, what was refused is tried again. A refused document also "
        "goes to your manager's sync refusals, who may correct and post it for you; "
        "sending it again later and posting it settles that. Only a malformed batch is "
        "refused whole (400, nothing posted)."
    ),
    "request": SyncRequestSerializer,
    "responses": {
        200: SyncResponseSerializer,
        400: OpenApiResponse(ErrorEnvelopeSerializer, description="A malformed batch."),
        401: OpenApiResponse(ErrorEnvelopeSerializer, description="Not signed in."),
        403: OpenApiResponse(
            ErrorEnvelopeSerializer, description="Only sales representatives sync."
        ),
    },
    "examples": [REQUEST_EXAMPLE, RESPONSE_EXAMPLE, MALFORMED_EXAMPLE],
    "tags": ["sync"],
}
