"""The three role groups and what ADMIN and MANAGER may do with users and depots.

SALES holds no admin permission: sales representatives never use the admin.
"""

from django.db import migrations

from core.roles import GROUP_NAMES, Role, grant, revoke

PERMISSIONS = [
    (Role.ADMIN, "core", "user", ["view", "add", "change", "delete"]),
    (Role.ADMIN, "core", "depot", ["view", "add", "change", "delete"]),
    (Role.ADMIN, "auth", "group", ["view"]),
    (Role.MANAGER, "core", "user", ["view"]),
    (Role.MANAGER, "core", "depot", ["view"]),
]


def forwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in GROUP_NAMES.values():
        Group.objects.get_or_create(name=name)
    for role, app_label, model, actions in PERMISSIONS:
        grant(apps, role, app_label, model, actions)


def backwards(apps, schema_editor):
    for role, app_label, model, actions in PERMISSIONS:
        revoke(apps, role, app_label, model, actions)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
