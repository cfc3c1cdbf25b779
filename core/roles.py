"""Roles are Django groups; which permissions each role holds is declared here.

Each app's data migration calls `grant()` for its own models, so the groups always
match the code that is deployed. A user's group follows their `role` (see services).
"""

from django.db import models


class Role(models.TextChoices):
    ADMIN = "ADMIN", "Admin (head office)"
    MANAGER = "MANAGER", "Depot manager"
    SALES = "SALES", "Sales representative"


GROUP_NAMES = {
    Role.ADMIN: "Admin",
    Role.MANAGER: "Manager",
    Role.SALES: "Sales",
}


def create_permissions_now(apps):
    """Create the permissions of every migrated app (normally done after migrate)."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def grant(apps, role, app_label, model_name, actions):
    """Give a role's group the permissions `<action>_<model>` (e.g. view, add, change)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    create_permissions_now(apps)
    group, _ = Group.objects.get_or_create(name=GROUP_NAMES[role])
    codenames = [_codename(action, model_name) for action in actions]
    perms = list(
        Permission.objects.filter(
            content_type__app_label=app_label,
            content_type__model=model_name,
            codename__in=codenames,
        )
    )
    missing = set(codenames) - {p.codename for p in perms}
    if missing:
        raise RuntimeError(f"Permissions not found for {app_label}: {sorted(missing)}")
    group.permissions.add(*perms)


def revoke(apps, role, app_label, model_name, actions):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=GROUP_NAMES[role]).first()
    if group is None:
        return
    group.permissions.remove(
        *Permission.objects.filter(
            content_type__app_label=app_label,
            content_type__model=model_name,
            codename__in=[_codename(action, model_name) for action in actions],
        )
    )


def _codename(action, model_name):
    """Django's default actions become `<action>_<model>`; custom codenames stay as given."""
    if action in {"view", "add", "change", "delete"}:
        return f"{action}_{model_name}"
    return action
