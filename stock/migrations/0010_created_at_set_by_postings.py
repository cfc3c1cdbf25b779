import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    """The ledger's created_at is set by the posting (its moment: stock.services.ledger),
    no longer by auto_now_add. Neither is a database default, so only Django's state
    changes: no SQL on any database (on SQLite an AlterField would copy the whole ledger
    into a new table for nothing)."""

    dependencies = [
        ("stock", "0009_distribution_idempotency_constraint"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="stockmovement",
                    name="created_at",
                    field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
            ],
        ),
    ]
