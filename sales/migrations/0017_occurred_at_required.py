"""occurred_at required, once the previous migration has filled it for existing
documents: a migration of its own, because on PostgreSQL a NOT NULL after the UPDATE in
one transaction could meet the UPDATE's pending trigger events."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0016_representatives_day"),
    ]

    operations = [
        migrations.AlterField(
            model_name="cylinderreturn",
            name="occurred_at",
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
        ),
        migrations.AlterField(
            model_name="payment",
            name="occurred_at",
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
        ),
        migrations.AlterField(
            model_name="transaction",
            name="occurred_at",
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
        ),
    ]
