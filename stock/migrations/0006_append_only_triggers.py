"""The stock ledger and stock's history tables refuse UPDATE, DELETE and TRUNCATE."""

from django.db import migrations

from core.append_only import protect


class Migration(migrations.Migration):
    dependencies = [("stock", "0005_history"), ("core", "0007_append_only_triggers")]

    operations = [
        protect(
            "stock_stockmovement",
            "stock_historicalproduct",
            "stock_historicalstocklevel",
            "stock_historicaldistribution",
        )
    ]
