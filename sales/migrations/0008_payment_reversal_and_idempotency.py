"""Payment reversal (who, when, why; a permission for head office and managers), and
idempotency keys kept on the documents for good: a key and request fingerprint on sales
and payments, unique per user and key.

Sales posted through the API kept their key as "api:<user id>:<key>" in one table-wide
namespace; the key is now unique per user, so the prefix is dropped and a retry that
sends the bare key finds its sale.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from core.roles import Role, grant, revoke

REVERSERS = [Role.ADMIN, Role.MANAGER]


def api_prefix_drop(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sales_transaction SET idempotency_key = "
            "substr(idempotency_key, length('api:' || created_by_id || ':') + 1) "
            "WHERE idempotency_key LIKE 'api:' || created_by_id || ':%'"
        )


def api_prefix_restore(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sales_transaction SET idempotency_key = "
            "'api:' || created_by_id || ':' || idempotency_key "
            "WHERE idempotency_key IS NOT NULL"
        )


def grant_reverse(apps, schema_editor):
    for role in REVERSERS:
        grant(apps, role, "sales", "payment", ["reverse_payment"])


def revoke_reverse(apps, schema_editor):
    for role in REVERSERS:
        revoke(apps, role, "sales", "payment", ["reverse_payment"])


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0010_user_token_version"),
        ("sales", "0007_transaction_cylinders_metered"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="payment",
            options={
                "ordering": ["-id"],
                "permissions": [("reverse_payment", "Can reverse a payment")],
            },
        ),
        migrations.AddField(
            model_name="historicalpayment",
            name="idempotency_key",
            field=models.CharField(blank=True, max_length=100, null=True),
        ),
        migrations.AddField(
            model_name="historicalpayment",
            name="request_fingerprint",
            field=models.CharField(blank=True, db_default="", default="", max_length=64),
        ),
        migrations.AddField(
            model_name="historicalpayment",
            name="reversal_reason",
            field=models.CharField(blank=True, max_length=255),
        ),
        migrations.AddField(
            model_name="historicalpayment",
            name="reversed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="historicalpayment",
            name="reversed_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="historicaltransaction",
            name="request_fingerprint",
            field=models.CharField(blank=True, db_default="", default="", max_length=64),
        ),
        migrations.AddField(
            model_name="payment",
            name="idempotency_key",
            field=models.CharField(blank=True, max_length=100, null=True),
        ),
        migrations.AddField(
            model_name="payment",
            name="request_fingerprint",
            field=models.CharField(blank=True, db_default="", default="", max_length=64),
        ),
        migrations.AddField(
            model_name="payment",
            name="reversal_reason",
            field=models.CharField(blank=True, max_length=255),
        ),
        migrations.AddField(
            model_name="payment",
            name="reversed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="payment",
            name="reversed_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="transaction",
            name="request_fingerprint",
            field=models.CharField(blank=True, db_default="", default="", max_length=64),
        ),
        migrations.AlterField(
            model_name="historicalpayment",
            name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
        ),
        migrations.AlterField(
            model_name="historicaltransaction",
            name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
        ),
        migrations.AlterField(
            model_name="historicaltransaction",
            name="idempotency_key",
            field=models.CharField(blank=True, max_length=100, null=True),
        ),
        migrations.AlterField(
            model_name="payment",
            name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
        ),
        migrations.AlterField(
            model_name="transaction",
            name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
        ),
        migrations.AlterField(
            model_name="transaction",
            name="idempotency_key",
            field=models.CharField(blank=True, max_length=100, null=True),
        ),
        migrations.AddConstraint(
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
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.UniqueConstraint(
                fields=("received_by", "idempotency_key"), name="sales_payment_one_per_user_key"
            ),
        ),
        migrations.RunPython(api_prefix_drop, api_prefix_restore, elidable=True),
        migrations.AddConstraint(
            model_name="transaction",
            constraint=models.UniqueConstraint(
                fields=("created_by", "idempotency_key"), name="sales_tx_one_per_user_key"
            ),
        ),
        migrations.RunPython(grant_reverse, revoke_reverse),
    ]
