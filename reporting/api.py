"""Reports through the API: the admin pages' reports as flat JSON, CSV or XLSX."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import HeadOfficeAndManagers
from reporting.catalogue import all_reports
from reporting.filters import COMMON
from reporting.views import (
    FILE_FORMATS,
    ReportRefused,
    report_file,
    report_prepare,
    xlsx_size_check,
)

FILTER_HELP = {
    "date_from": "First day, YYYY-MM-DD.",
    "date_to": "Last day, YYYY-MM-DD (a position report: the day it stands at).",
    "depot": "Depot code.",
    "sales_rep": "Representative's username.",
    "customer": "Customer code.",
    "product": "Product code.",
    "payment_type": "CASH or CREDIT.",
}


def _parameters():
    """The query parameters, each saying which reports use it: a filter given a value to
    a report that does not use it is a 400 naming it, never silently ignored."""
    reports = sorted(all_reports(), key=lambda r: r.slug)
    parameters = [
        OpenApiParameter(
            "slug",
            OpenApiTypes.STR,
            OpenApiParameter.PATH,
            enum=[r.slug for r in reports],
            description="The report.",
        )
    ]
    for name in COMMON:
        users = ", ".join(r.slug for r in reports if name in r.filters_used)
        parameters.append(
            OpenApiParameter(
                name,
                OpenApiTypes.STR,
                required=False,
                description=f"{FILTER_HELP[name]} Used by {users}. Any other report "
                f"answers 400 naming {name}.",
            )
        )
    for name in sorted({name for r in reports for name in r.options}):
        using = [r for r in reports if name in r.options]
        allowed = sorted({value for r in using for value in r.options[name][0]})
        parameters.append(
            OpenApiParameter(
                name,
                OpenApiTypes.STR,
                required=False,
                enum=allowed,
                description=f"Used by {', '.join(r.slug for r in using)} only (any other "
                f"report answers 400 naming {name}).",
            )
        )
    parameters.append(
        OpenApiParameter(
            "format", OpenApiTypes.STR, required=False, enum=list(FILE_FORMATS), default="json"
        )
    )
    return parameters


FILTERS = _parameters()


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

    DESCRIPTION = (
        "One report as flat rows: JSON, CSV or XLSX, the whole report at once. Each report "
        "takes only the filters it uses (each filter below names its reports); a filter "
        "given a value to a report that does not use it, a bad value, an unknown "
        "parameter, `page` or `async` is a 400 in the one error shape, naming it."
    )

    permission_classes = [HeadOfficeAndManagers]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = ReportNegotiation

    @extend_schema(
        parameters=FILTERS,
        description=DESCRIPTION,
        responses={200: OpenApiTypes.ANY, 400: OpenApiTypes.ANY},
    )
    def get(self, request, slug):
        fmt = request.query_params.get("format", "json")
        try:
            report, filters = report_prepare(request.query_params, slug, fmt, user=request.user)
            if fmt == "xlsx":
                xlsx_size_check(report, filters)
        except ReportRefused as refused:
            return Response(refused.body(), status=refused.status)
        return report_file(report, filters, fmt)
