"""The audit chain is keyed with AUDIT_HMAC_KEY: the seal's table (core.models.
AuditChainSeal says why a seal). The entries written before, with plain SHA-256, are
sealed by migration 0014, in the same transaction that stops code from before the key
from appending (core_auditlog.writer_version): until then such code may still write."""

from django.db import migrations, models

from core.append_only import protect


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0010_user_token_version"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditChainSeal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("seq", models.PositiveBigIntegerField(unique=True)),
                ("hash", models.CharField(max_length=64)),
                ("mac", models.CharField(max_length=64)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "abstract": False,
            },
        ),
        protect("core_auditchainseal"),
    ]
