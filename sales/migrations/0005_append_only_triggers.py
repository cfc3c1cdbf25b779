"""Rate versions, posted lines, meter sales, payment allocations and sales' history tables
refuse UPDATE, DELETE and TRUNCATE."""

from django.db import migrations

from core.append_only import protect


class Migration(migrations.Migration):
    dependencies = [("sales", "0004_history"), ("core", "0007_append_only_triggers")]

    operations = [
        protect(
            "sales_rate",
            "sales_transactionline",
            "sales_metersale",
            "sales_paymentallocation",
            "sales_historicalcustomer",
            "sales_historicalrate",
            "sales_historicaltransaction",
            "sales_historicalpayment",
        )
    ]
