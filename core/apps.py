from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class HSHAdminConfig(AdminConfig):
    """django.contrib.admin, with the HSH admin site as `admin.site`."""

    default_site = "core.admin_site.HSHAdminSite"


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Users and depots"

    def ready(self):
        from django.contrib.auth.models import update_last_login
        from django.contrib.auth.signals import user_logged_in

        # Django saves the user on each login, which would add a history row every time;
        # record last_login with a plain update instead.
        user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
        user_logged_in.connect(_record_login, dispatch_uid="hsh_record_login")


def _record_login(sender, user, **kwargs):
    from django.utils import timezone

    type(user).objects.filter(pk=user.pk).update(last_login=timezone.now())
