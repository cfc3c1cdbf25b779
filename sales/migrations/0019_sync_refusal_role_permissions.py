"""Sync refusals: head office and depot managers see them and settle them (correct and
repost as the representative, or dismiss with a reason). Representatives have no admin."""

from django.db import migrations

from core.roles import Role, grant, revoke

ACTIONS = ["view", "resolve_syncrefusal"]


def grant_sync_refusals(apps, schema_editor):
    for role in (Role.ADMIN, Role.MANAGER):
        grant(apps, role, "sales", "syncrefusal", ACTIONS)


def revoke_sync_refusals(apps, schema_editor):
    for role in (Role.ADMIN, Role.MANAGER):
        revoke(apps, role, "sales", "syncrefusal", ACTIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0018_cashup_role_permissions"),
    ]

    operations = [
        migrations.RunPython(grant_sync_refusals, revoke_sync_refusals),
    ]
