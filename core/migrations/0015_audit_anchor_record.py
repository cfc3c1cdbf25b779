"""The anchors `audit_anchor` took: the next one verifies the chain from the last one on
(core.models.AuditAnchorRecord). Append-only, like the chain."""

from django.db import migrations, models

from core.append_only import protect


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0014_audit_writer_version"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditAnchorRecord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("seq", models.PositiveBigIntegerField()),
                ("hash", models.CharField(max_length=64)),
                ("mac", models.CharField(max_length=64)),
                ("taken_at", models.DateTimeField()),
            ],
            options={
                "verbose_name": "audit anchor taken",
                "verbose_name_plural": "audit anchors taken",
            },
        ),
        protect("core_auditanchorrecord"),
    ]
