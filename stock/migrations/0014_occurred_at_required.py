"""occurred_at required, once the previous migration has filled it for existing
documents: a migration of its own, because on PostgreSQL a NOT NULL after the UPDATE in
one transaction could meet the UPDATE's pending trigger events."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("stock", "0013_service_list_price_occurred_at"),
    ]

    operations = [
        migrations.AlterField(
            model_name="distribution",
            name="occurred_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, editable=False, db_index=True
            ),
        ),
    ]
