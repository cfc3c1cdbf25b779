"""Cash-ups: head office and depot managers see them, post them on a representative's
behalf and confirm them (representatives post their own through the API, which needs no
admin permission)."""

from django.db import migrations

from core.roles import Role, grant, revoke

ACTIONS = ["view", "add", "confirm_cashup"]


def grant_cashups(apps, schema_editor):
    for role in (Role.ADMIN, Role.MANAGER):
        grant(apps, role, "sales", "cashup", ACTIONS)


def revoke_cashups(apps, schema_editor):
    for role in (Role.ADMIN, Role.MANAGER):
        revoke(apps, role, "sales", "cashup", ACTIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0017_occurred_at_required"),
    ]

    operations = [
        migrations.RunPython(grant_cashups, revoke_cashups),
    ]
