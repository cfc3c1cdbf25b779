"""Payment reversal (who, when, why; a permission for head office and managers), and
idempotency keys kept on the documents for good: a key and request fingerprint on sales
and payments.

Only what is quick on a large live table happens here, in one transaction: new columns
(nullable or with a constant default, so no table is rewritten) and dropped indexes.
Sales posted through the API before kept their key as "api:<user id>:<key>"; those rows
are left as they are (sale_post matches that form too). The unique constraints, the
reversal check and the reversed_by indexes, which read whole tables, are built without
blocking writes by 0009.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from core.migration_ops import AddFieldIndexedLater
from core.roles import Role, grant, revoke

REVERSERS = [Role.ADMIN, Role.MANAGER]


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
        AddFieldIndexedLater(  # its index: 0009, built concurrently
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
        AddFieldIndexedLater(  # its index: 0009, built concurrently
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
        migrations.RunPython(grant_reverse, revoke_reverse),
    ]
