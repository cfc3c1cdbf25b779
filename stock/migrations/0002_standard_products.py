"""The standard product set, and what each role may do with products."""

from decimal import Decimal

from django.db import migrations

from core.roles import Role, grant, revoke

STANDARD_PRODUCTS = [
    # code, name, kind, capacity_kg, unit, sort_order
    ("9KG", "9 kg cylinder", "CYLINDER", Decimal("9.0"), "cylinder", 10),
    ("12.7KG", "12.7 kg cylinder", "CYLINDER", Decimal("12.7"), "cylinder", 20),
    ("14KG", "14 kg cylinder", "CYLINDER", Decimal("14.0"), "cylinder", 30),
    ("50KG-POL", "50 kg cylinder (POL valve)", "CYLINDER", Decimal("50.0"), "cylinder", 40),
    ("50KG-L", "50 kg cylinder (L valve)", "CYLINDER", Decimal("50.0"), "cylinder", 50),
    ("BULK", "Bulk LPG (metered tank)", "METERED", None, "kg", 60),
]

PERMISSIONS = [
    (Role.ADMIN, "stock", "product", ["view", "add", "change"]),
    (Role.MANAGER, "stock", "product", ["view"]),
]


def forwards(apps, schema_editor):
    Product = apps.get_model("stock", "Product")
    for code, name, kind, capacity, unit, order in STANDARD_PRODUCTS:
        Product.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "capacity_kg": capacity,
                "unit": unit,
                "sort_order": order,
                "is_active": True,
            },
        )
    for role, app_label, model, actions in PERMISSIONS:
        grant(apps, role, app_label, model, actions)


def backwards(apps, schema_editor):
    for role, app_label, model, actions in PERMISSIONS:
        revoke(apps, role, app_label, model, actions)
    Product = apps.get_model("stock", "Product")
    Product.objects.filter(code__in=[p[0] for p in STANDARD_PRODUCTS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("stock", "0001_initial"),
        ("core", "0002_role_groups"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
