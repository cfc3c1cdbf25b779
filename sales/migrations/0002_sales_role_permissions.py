"""Who may do what with customers, rates, sales and payments in the admin.

Head office owns customers and contract rates; managers post and void sales and record
payments for their depots (the admin limits them to those depots) and read the rest.
"""

from django.db import migrations

from core.roles import Role, grant, revoke

PERMISSIONS = [
    (Role.ADMIN, "sales", "customer", ["view", "add", "change", "delete"]),
    (Role.ADMIN, "sales", "rate", ["view", "add"]),
    (Role.ADMIN, "sales", "rateimport", ["view", "add"]),
    (Role.ADMIN, "sales", "transaction", ["view", "add", "void_transaction"]),
    (Role.ADMIN, "sales", "payment", ["view", "add"]),
    (Role.MANAGER, "sales", "customer", ["view"]),
    (Role.MANAGER, "sales", "rate", ["view"]),
    (Role.MANAGER, "sales", "transaction", ["view", "add", "void_transaction"]),
    (Role.MANAGER, "sales", "payment", ["view", "add"]),
]


def forwards(apps, schema_editor):
    for role, app_label, model, actions in PERMISSIONS:
        grant(apps, role, app_label, model, actions)


def backwards(apps, schema_editor):
    for role, app_label, model, actions in PERMISSIONS:
        revoke(apps, role, app_label, model, actions)


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0001_initial"),
        ("core", "0002_role_groups"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
