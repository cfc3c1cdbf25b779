"""Reports through the API: the admin pages' reports as flat JSON, CSV or XLSX."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.views import APIView

from core.api import HeadOfficeAndManagers
from reporting.views import report_response

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
] + [OpenApiParameter("format", OpenApiTypes.STR, required=False, enum=["json", "csv", "xlsx"])]


class ReportAPIView(APIView):
    """One report as flat rows. A bad filter is a 400 that names it."""

    permission_classes = [HeadOfficeAndManagers]

    @extend_schema(parameters=FILTERS, responses={200: OpenApiTypes.ANY, 400: OpenApiTypes.ANY})
    def get(self, request, slug):
        return report_response(
            request._request,
            slug,
            request.query_params.get("format", "json"),
            user=request.user,
            background=False,
        )
