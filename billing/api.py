"""The field API's printable documents: a sale's tax invoice (A4 PDF) and thermal copy
(ESC/POS bytes, or an 80 mm PDF with ?format=pdf; ?width=58 for a 58 mm printer), and
the same for a payment's receipt and a cylinder return's. A representative gets only
their own documents, a manager their depots', head office all (core.api_scope); anything
else is a 404."""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotAuthenticated, NotFound, ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from billing.services import (
    cylinder_return_escpos,
    cylinder_return_pdf,
    cylinder_return_thermal_pdf,
    invoice_pdf,
    invoice_printed_record,
    payment_escpos,
    receipt_escpos,
    receipt_pdf,
    thermal_pdf,
)
from core.api import FieldPermission
from core.api_scope import api_scope
from core.models import User
from sales.models import CylinderReturn, Payment, Transaction

WIDTHS = ("58", "80")


class JSONErrorsOnly(BaseContentNegotiation):
    """The documents are plain Django responses; DRF renders only errors, always as JSON
    (its `format` query parameter would otherwise be read as a renderer's name)."""

    def select_parser(self, request: Any, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


class DocumentView(APIView):
    permission_classes = [FieldPermission]
    renderer_classes: list[type[BaseRenderer]] = [JSONRenderer]
    content_negotiation_class = JSONErrorsOnly

    def user(self, request: Request) -> User:
        user = request.user
        if not isinstance(user, User):  # FieldPermission let only signed-in users in
            raise NotAuthenticated
        return user

    def document(self, queryset: "QuerySet[Any]", number: str) -> Any:
        document = queryset.filter(number=number).first()
        if document is None:
            raise NotFound(f"No document numbered {number} is yours to see.")
        return document

    def width(self, request: Request) -> int:
        width = request.query_params.get("width", "80")
        if width not in WIDTHS:
            raise ValidationError(
                {"width": ["The printer width is 58 or 80 (mm)."]}, code="invalid"
            )
        return int(width)


def _sales(user: User) -> "QuerySet[Transaction]":
    return api_scope(Transaction.objects.all(), user, own_field="sales_rep")


def _payments(user: User) -> "QuerySet[Payment]":
    return api_scope(Payment.objects.all(), user, own_field="received_by")


def _returns(user: User) -> "QuerySet[CylinderReturn]":
    return api_scope(CylinderReturn.objects.all(), user, own_field="sales_rep")


def _file(data: bytes, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


THERMAL_PARAMETERS = [
    OpenApiParameter(
        "format", str, enum=["pdf"], description="pdf: an 80 mm PDF instead of ESC/POS"
    ),
    OpenApiParameter("width", int, enum=[58, 80], description="printer width in mm (80)"),
]


class SaleInvoicePdfView(DocumentView):
    """GET /api/sales/<number>/invoice.pdf: the tax invoice as an A4 PDF."""

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request: Request, number: str) -> HttpResponse:
        sale = self.document(_sales(self.user(request)), number)
        data = invoice_pdf(transaction=sale)
        invoice_printed_record(
            transaction=sale, actor=self.user(request), format="a4-pdf", via="api"
        )
        return _file(data, "application/pdf", f"{sale.number}.pdf")


class SaleReceiptView(DocumentView):
    """GET /api/sales/<number>/receipt/: the thermal copy as ESC/POS bytes for the
    handheld's printer (?width=58 or 80), or as a roll-wide PDF (?format=pdf)."""

    @extend_schema(
        parameters=THERMAL_PARAMETERS,
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, number: str) -> HttpResponse:
        width = self.width(request)
        sale = self.document(_sales(self.user(request)), number)
        if request.query_params.get("format") == "pdf":
            data = thermal_pdf(document=sale, width_mm=width)
            invoice_printed_record(
                transaction=sale, actor=self.user(request), format="thermal-pdf", via="api"
            )
            return _file(data, "application/pdf", f"{sale.number}-{width}mm.pdf")
        data = receipt_escpos(transaction=sale, width_mm=width)
        invoice_printed_record(
            transaction=sale, actor=self.user(request), format="escpos", via="api"
        )
        return _file(data, "application/octet-stream", f"{sale.number}.bin")


class PaymentReceiptPdfView(DocumentView):
    """GET /api/payments/<number>/receipt.pdf: the payment's receipt as an A4 PDF."""

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request: Request, number: str) -> HttpResponse:
        payment = self.document(_payments(self.user(request)), number)
        return _file(receipt_pdf(payment=payment), "application/pdf", f"{payment.number}.pdf")


class PaymentReceiptView(DocumentView):
    """GET /api/payments/<number>/receipt/: the receipt's thermal copy (as for sales)."""

    @extend_schema(
        parameters=THERMAL_PARAMETERS,
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, number: str) -> HttpResponse:
        width = self.width(request)
        payment = self.document(_payments(self.user(request)), number)
        if request.query_params.get("format") == "pdf":
            data = thermal_pdf(document=payment, width_mm=width)
            return _file(data, "application/pdf", f"{payment.number}-{width}mm.pdf")
        data = payment_escpos(payment=payment, width_mm=width)
        return _file(data, "application/octet-stream", f"{payment.number}.bin")


class ReturnReceiptPdfView(DocumentView):
    """GET /api/returns/<number>/receipt.pdf: the cylinder return's receipt, A4 PDF."""

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request: Request, number: str) -> HttpResponse:
        returned = self.document(_returns(self.user(request)), number)
        data = cylinder_return_pdf(cylinder_return=returned)
        return _file(data, "application/pdf", f"{returned.number}.pdf")


class ReturnReceiptView(DocumentView):
    """GET /api/returns/<number>/receipt/: the return's thermal copy (as for sales)."""

    @extend_schema(
        parameters=THERMAL_PARAMETERS,
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, number: str) -> HttpResponse:
        width = self.width(request)
        returned = self.document(_returns(self.user(request)), number)
        if request.query_params.get("format") == "pdf":
            data = cylinder_return_thermal_pdf(cylinder_return=returned, width_mm=width)
            return _file(data, "application/pdf", f"{returned.number}-{width}mm.pdf")
        data = cylinder_return_escpos(cylinder_return=returned, width_mm=width)
        return _file(data, "application/octet-stream", f"{returned.number}.bin")
