"""The audit chain is keyed with AUDIT_HMAC_KEY from here on; the entries written before,
with plain SHA-256, are sealed (core.models.AuditChainSeal says why a seal)."""

from django.db import migrations, models

from core.append_only import protect


def seal_unkeyed_entries(apps, schema_editor):
    """Seal the chain as it ends now: entries up to the head are the unkeyed ones.

    The head is locked, so a writer still running the old code waits, and appends after
    the seal with a plain hash that verify_audit then names: stop the writers while
    migrating. A fresh database has no entries and gets no seal: everything is keyed.
    """
    from core.services import audit_seal_mac

    AuditChainHead = apps.get_model("core", "AuditChainHead")
    AuditChainSeal = apps.get_model("core", "AuditChainSeal")
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None or head.last_seq == 0 or AuditChainSeal.objects.exists():
        return
    AuditChainSeal.objects.create(
        seq=head.last_seq,
        hash=head.last_hash,
        mac=audit_seal_mac(seq=head.last_seq, hash=head.last_hash),
    )


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
        migrations.RunPython(seal_unkeyed_entries, migrations.RunPython.noop),
        protect("core_auditchainseal"),
    ]
