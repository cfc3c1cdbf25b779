from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from core.views import admin_search, healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("healthz", healthz, name="healthz"),
    # Browsers ask every site for /favicon.ico (the admin's pages also name it).
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("favicon.ico"), permanent=True)),
    path("api/", include(("hsh_admin.api_urls", "api"))),
    path("admin/reports/", include("reporting.urls")),
    # The public document check (/verify/...) and the admin's document downloads.
    path("", include("billing.urls")),
    # The header's global search (core.search), behind the admin's login and permission.
    path("admin/search/", admin.site.admin_view(admin_search), name="admin-search"),
    path("admin/", admin.site.urls),
]

# Under /api/ these answer in the API's error shape; elsewhere they are Django's pages.
handler400 = "core.api.bad_request"
handler403 = "core.api.permission_denied"
handler404 = "core.api.page_not_found"
handler500 = "core.api.server_error"
