"""The field API under /api/."""

from django.urls import include, path
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import permissions
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from billing.api import (
    PaymentReceiptPdfView,
    PaymentReceiptView,
    ReturnReceiptPdfView,
    ReturnReceiptView,
    SaleInvoicePdfView,
    SaleReceiptView,
)
from core.admin_site import login_username_problem
from core.api import error
from core.services import user_logout_everywhere
from reporting.api import ReportAPIView
from sales.api import CustomerViewSet, PaymentViewSet, SaleViewSet
from sales.api_day import CashUpViewSet, MyDayView
from sales.api_returns import CylinderReturnViewSet
from sales.api_sync import SyncView
from stock.api import DistributionViewSet, MyStockView, ProductViewSet


class TokenView(TokenObtainPairView):
    """A JWT pair for a username and password (rate-limited; repeated failures lock out)."""

    throttle_scope = "token"

    def post(self, request, *args, **kwargs):
        username = request.data.get("username") if hasattr(request.data, "get") else None
        problem = login_username_problem(username)
        if problem:  # refused before the lockout's log, whose column it would not fit
            return error(400, "invalid", problem, {"username": [problem]})
        try:
            return super().post(request, *args, **kwargs)
        except AuthenticationFailed:
            if getattr(request, "axes_locked_out", False) or getattr(
                request._request, "axes_locked_out", False
            ):
                return error(
                    429,
                    "locked_out",
                    "Too many failed logins for this account "
                    "from here; try again later or ask head office.",
                )
            raise


class VersionedJWTScheme(SimpleJWTScheme):
    """OpenAPI: core.auth's token check is simplejwt's Bearer scheme."""

    target_class = "core.auth.JWTAuthentication"


class LogoutView(APIView):
    """Log out: every token of the signed-in user ends, on all their handhelds (204)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        user_logout_everywhere(user=request.user, actor=request.user, via="api")
        return Response(status=204)


router = DefaultRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("distributions", DistributionViewSet, basename="distribution")
router.register("products", ProductViewSet, basename="product")
router.register("sales", SaleViewSet, basename="sale")
router.register("payments", PaymentViewSet, basename="payment")
router.register("returns", CylinderReturnViewSet, basename="cylinder-return")
router.register("cashups", CashUpViewSet, basename="cashup")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="token"),
    path("auth/token/refresh/", TokenRefreshView.as_view(), name="token-refresh"),
    path("auth/logout/", LogoutView.as_view(), name="logout"),
    path("me/stock/", MyStockView.as_view(), name="my-stock"),
    path("me/day/", MyDayView.as_view(), name="my-day"),
    path("sync/", SyncView.as_view(), name="sync"),
    path("reports/<slug:slug>/", ReportAPIView.as_view(), name="report"),
    path("sales/<str:number>/invoice.pdf", SaleInvoicePdfView.as_view(), name="sale-invoice-pdf"),
    path("sales/<str:number>/receipt/", SaleReceiptView.as_view(), name="sale-receipt"),
    path(
        "payments/<str:number>/receipt.pdf",
        PaymentReceiptPdfView.as_view(),
        name="payment-receipt-pdf",
    ),
    path("payments/<str:number>/receipt/", PaymentReceiptView.as_view(), name="payment-receipt"),
    path(
        "returns/<str:number>/receipt.pdf",
        ReturnReceiptPdfView.as_view(),
        name="return-receipt-pdf",
    ),
    path("returns/<str:number>/receipt/", ReturnReceiptView.as_view(), name="return-receipt"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("", include(router.urls)),
]
