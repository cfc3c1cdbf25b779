from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from core.views import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("api/", include(("hsh_admin.api_urls", "api"))),
    path("admin/reports/", include("reporting.urls")),
    path("admin/", admin.site.urls),
]

# Under /api/ these answer in the API's error shape; elsewhere they are Django's pages.
handler400 = "core.api.bad_request"
handler403 = "core.api.permission_denied"
handler404 = "core.api.page_not_found"
handler500 = "core.api.server_error"
