from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class HSHAdminConfig(AdminConfig):
    """django.contrib.admin, with the HSH admin site as `admin.site`."""

    default_site = "core.admin_site.HSHAdminSite"


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Users and depots"
