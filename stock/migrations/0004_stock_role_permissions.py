"""Who may do what with stock. Managers run their depots' stock (the admin limits them to
their depots); sales representatives work through the API, not through these permissions."""

from django.db import migrations

from core.roles import Role, grant, revoke

PERMISSIONS = [
    (Role.ADMIN, "stock", "stocklevel", ["view", "receive_stock", "count_stock"]),
    (Role.ADMIN, "stock", "stockmovement", ["view"]),
    (Role.ADMIN, "stock", "distribution", ["view", "add"]),
    (Role.MANAGER, "stock", "stocklevel", ["view", "receive_stock", "count_stock"]),
    (Role.MANAGER, "stock", "stockmovement", ["view"]),
    (Role.MANAGER, "stock", "distribution", ["view", "add"]),
    (Role.ADMIN, "core", "auditlog", ["view"]),
    (Role.MANAGER, "core", "auditlog", ["view"]),
]


def forwards(apps, schema_editor):
    for role, app_label, model, actions in PERMISSIONS:
        grant(apps, role, app_label, model, actions)


def backwards(apps, schema_editor):
    for role, app_label, model, actions in PERMISSIONS:
        revoke(apps, role, app_label, model, actions)


class Migration(migrations.Migration):
    dependencies = [
        ("stock", "0003_stock_ledger"),
        ("core", "0003_counters_and_audit_log"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
