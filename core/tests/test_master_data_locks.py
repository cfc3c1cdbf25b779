"""Master-data rows are changed under FOR NO KEY UPDATE, never a plain FOR UPDATE: audit
entries, sale lines and rates insert keys to them (FOR KEY SHARE), which a plain FOR
UPDATE waits for, so a depot rename could deadlock against a posting in that depot
(docs/architecture.md, "Lock order")."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.services import depot_update
from stock.models import Product
from stock.services import product_update

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def master_lock(queries, table: str) -> str:
    found = [q["sql"] for q in queries if f'FROM "{table}"' in q["sql"] and " FOR " in q["sql"]]
    assert found, f"no lock on {table}"
    return found[0]


def test_depot_update_locks_the_depot_for_no_key_update(north, head_office):
    with CaptureQueriesContext(connection) as queries:
        depot_update(depot=north, actor=head_office, data={"name": "North yard"})
    sql = master_lock(queries, "core_depot")
    assert sql.endswith("FOR NO KEY UPDATE")


def test_product_update_locks_the_product_for_no_key_update(head_office):
    product = Product.objects.get(code="9KG")
    with CaptureQueriesContext(connection) as queries:
        product_update(product=product, actor=head_office, data={"name": "9 kg bottle"})
    sql = master_lock(queries, "stock_product")
    assert sql.endswith("FOR NO KEY UPDATE")
