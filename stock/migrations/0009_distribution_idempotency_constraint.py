"""Each user's idempotency keys unique on distributions, the index built without
blocking writes on a large live database (core.migration_ops). Not atomic: a
CONCURRENTLY build cannot run in a transaction; if it stops half-way, run `migrate`
again."""

from django.db import migrations, models

from core.migration_ops import AddUniqueConstraintConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("stock", "0008_distribution_idempotency"),
    ]

    operations = [
        AddUniqueConstraintConcurrently(
            model_name="distribution",
            constraint=models.UniqueConstraint(
                fields=("created_by", "idempotency_key"), name="stock_distribution_one_per_user_key"
            ),
        ),
    ]
