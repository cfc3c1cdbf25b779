from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from stock.models import Product

STANDARD = {
    "9KG": ("CYLINDER", Decimal("9.0")),
    "12.7KG": ("CYLINDER", Decimal("12.7")),
    "14KG": ("CYLINDER", Decimal("14.0")),
    "50KG-POL": ("CYLINDER", Decimal("50.0")),
    "50KG-L": ("CYLINDER", Decimal("50.0")),
    "BULK": ("METERED", None),
}


@pytest.mark.django_db
def test_migration_creates_the_standard_products():
    found = {p.code: (p.kind, p.capacity_kg) for p in Product.objects.all()}
    assert found == STANDARD


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migration_reverses_and_reapplies_cleanly():
    executor = MigrationExecutor(connection)
    executor.migrate([("stock", "0001_initial")])
    assert Product.objects.count() == 0
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert Product.objects.count() == len(STANDARD)


@pytest.mark.django_db
def test_a_cylinder_needs_a_capacity():
    from django.core.exceptions import ValidationError

    product = Product(code="5KG", name="5 kg", kind="CYLINDER", capacity_kg=None)
    with pytest.raises(ValidationError, match="capacity above zero"):
        product.full_clean()
