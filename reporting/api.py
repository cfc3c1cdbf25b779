"""Reports through the API: the admin pages' reports as flat JSON, CSV or XLSX."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import HeadOfficeAndManagers
from reporting.views import (
    FILE_FORMATS,
    ReportRefused,
    report_file,
    report_prepare,
    xlsx_size_check,
)

FILTERS = [
    OpenApiParameter(name, OpenApiTypes.STR, required=False)
    for name in (
        "date_from",
        "date_to",
        "depot",
        "sales_rep",
        "customer",
        "product",
        "payment_type",
        "group_by",
        "period",
    )
] + [
    OpenApiParameter(
        "format", OpenApiTypes.STR, required=False, enum=list(FILE_FORMATS), default="json"
    )
]


class ReportNegotiation(BaseContentNegotiation):
    """Here `format` names the report's file format, not one of DRF's renderers (which
    would answer 404 for csv and xlsx before the view runs); refusals are always JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ReportAPIView(APIView):
    """One report as flat rows (json, csv or xlsx; the admin pages' filters). A bad
    filter or format is a 400 that names it."""

    permission_classes = [HeadOfficeAndManagers]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = ReportNegotiation

    @extend_schema(parameters=FILTERS, responses={200: OpenApiTypes.ANY, 400: OpenApiTypes.ANY})
    def get(self, request, slug):
        fmt = request.query_params.get("format", "json")
        try:
            report, filters = report_prepare(request.query_params, slug, fmt, user=request.user)
            if fmt == "xlsx":
                xlsx_size_check(report, filters)
        except ReportRefused as refused:
            return Response(refused.body(), status=refused.status)
        return report_file(report, filters, fmt)
