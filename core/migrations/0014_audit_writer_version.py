"""Seal the unkeyed audit entries, and from the same moment refuse code from before
AUDIT_HMAC_KEY.

In a rolling deploy, web processes and Celery workers of the previous release still run
while this migrates. Had they gone on appending after the seal, their entries, hashed with
plain SHA-256, would be reported by verify_audit for ever, like tampering, and the log is
append-only. So core_auditlog gets `writer_version`, NOT NULL with no database default
(added with a default for the existing rows, which is then dropped: no table rewrite), and
only the new code names it. The old code's INSERT names its columns, leaves this one out
and is refused; its posting rolls back whole. Restarting it on the new release cures it.

One transaction, in the order every writer takes its locks: the chain head first (a
writer of the old release that holds it finishes its entry, which is then sealed with
the others), then the audit log's table for the new column, then the seal.
"""

from django.db import migrations, models


def lock_the_chain_head(apps, schema_editor):
    """Wait for the writer holding the head (old code locks it before it inserts), and
    hold it until this migration commits: taking the table's lock first instead would
    deadlock with such a writer."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM core_auditchainhead WHERE id = 1 FOR UPDATE")


def seal_unkeyed_entries(apps, schema_editor):
    """Seal the chain where its unkeyed entries end: normally at the head. A fresh
    database has no entries and gets no seal.

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
        ("core", "0013_audit_anchor_schedule"),
    ]

    operations = [
        migrations.RunPython(lock_the_chain_head, migrations.RunPython.noop),
        migrations.AddField(
            model_name="auditlog",
            name="writer_version",
            field=models.PositiveSmallIntegerField(
                default=1,
                editable=False,
                help_text="The audit writer that appended the entry: 1 before migration "
                "0014, 2 the keyed writer. Neither hashed nor trusted (the seal says which "
                "entries are unkeyed). It is there so that a process still running code "
                "from before AUDIT_HMAC_KEY, whose INSERT does not name it, is refused (NOT "
                "NULL, no default) instead of appending an unkeyed entry after the seal.",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(seal_unkeyed_entries, migrations.RunPython.noop),
    ]
