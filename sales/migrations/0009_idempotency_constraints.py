"""The constraints 0008 left out, built without blocking writes on a large live
database (core.migration_ops): each user's idempotency keys unique on sales and payments,
a reversed payment complete, and the reversed_by indexes.

Not atomic: a CONCURRENTLY build cannot run in a transaction. If it stops half-way, run
`migrate` again: what was built is kept, and an index whose build failed is built again.

The old table-wide unique index on a sale's key is dropped only once the per-user one
exists, so keys are unique at every moment of the upgrade. Migrating back restores it,
and first puts the keys of sales posted since back into the API's old "api:<user id>:"
form, so they stay unique table-wide (a rollback only: it rewrites those rows).
"""

from django.db import migrations, models

from core.migration_ops import (
    AddCheckConstraintNotValid,
    AddUniqueConstraintConcurrently,
    FieldIndexConcurrently,
)

KEY_MAX_LENGTH = 100


def api_prefix_restore(apps, schema_editor):
    """Keys kept per user back into the one namespace the old code reads (a key too long
    for the prefix stays as it is)."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sales_transaction SET idempotency_key = "
            "'api:' || created_by_id || ':' || idempotency_key "
            "WHERE idempotency_key IS NOT NULL "
            "AND idempotency_key NOT LIKE 'api:' || created_by_id || ':%%' "
            "AND length('api:' || created_by_id || ':' || idempotency_key) <= %s",
            [KEY_MAX_LENGTH],
        )


# The table-wide unique index on a sale's key goes last, once the per-user one is in; in
# a transaction of its own (its two statements or neither), so that a re-run after a
# failure finds the index as it expects.
global_unique_dropped = migrations.AlterField(
    model_name="transaction",
    name="idempotency_key",
    field=models.CharField(blank=True, max_length=100, null=True),
)
global_unique_dropped.atomic = True


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("sales", "0008_payment_reversal_and_idempotency"),
    ]

    operations = [
        AddUniqueConstraintConcurrently(
            model_name="transaction",
            constraint=models.UniqueConstraint(
                fields=("created_by", "idempotency_key"), name="sales_tx_one_per_user_key"
            ),
        ),
        AddUniqueConstraintConcurrently(
            model_name="payment",
            constraint=models.UniqueConstraint(
                fields=("received_by", "idempotency_key"), name="sales_payment_one_per_user_key"
            ),
        ),
        AddCheckConstraintNotValid(
            model_name="payment",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("reversed_at__isnull", True),
                    models.Q(
                        ("allocated", 0),
                        ("reversed_by__isnull", False),
                        models.Q(("reversal_reason", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="sales_payment_reversal_complete",
                violation_error_message="A reversed payment settles nothing and says who reversed it and why.",
            ),
        ),
        FieldIndexConcurrently(model_name="payment", name="reversed_by"),
        FieldIndexConcurrently(model_name="historicalpayment", name="reversed_by"),
        global_unique_dropped,
        migrations.RunPython(migrations.RunPython.noop, api_prefix_restore, elidable=True),
    ]
