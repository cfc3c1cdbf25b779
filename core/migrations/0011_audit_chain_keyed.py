"""The audit chain is keyed with AUDIT_HMAC_KEY from here on; the entries written before,
with plain SHA-256, are sealed (core.models.AuditChainSeal says why a seal)."""

from django.db import migrations, models

from core.append_only import protect


def seal_unkeyed_entries(apps, schema_editor):
    """Seal the chain where its unkeyed entries end: normally at the head, when this runs
    the first time. The head is locked, so a writer still running the old code waits, and
    appends after the seal with a plain hash that verify_audit then names: stop the
    writers while migrating. A fresh database has no entries and gets no seal.

    Run again after a rollback, the chain may already end in keyed entries: the unkeyed
    ones are a prefix, so the last of them is found by bisection (a few entries read).
    """
    from core.services import audit_hash_unkeyed, audit_seal_mac

    AuditLog = apps.get_model("core", "AuditLog")
    AuditChainHead = apps.get_model("core", "AuditChainHead")
    AuditChainSeal = apps.get_model("core", "AuditChainSeal")
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None or head.last_seq == 0 or AuditChainSeal.objects.exists():
        return

    def unkeyed(seq):
        entry = AuditLog.objects.filter(seq=seq).first()
        return entry is not None and audit_hash_unkeyed(entry) == entry.hash

    low, high = 0, head.last_seq  # entries up to `low` are unkeyed; after `high`, keyed
    if unkeyed(high):
        low = high
    while low < high:
        middle = (low + high + 1) // 2
        if unkeyed(middle):
            low = middle
        else:
            high = middle - 1
    if low == 0:
        return
    last = AuditLog.objects.get(seq=low)
    AuditChainSeal.objects.create(
        seq=low, hash=last.hash, mac=audit_seal_mac(seq=low, hash=last.hash)
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
