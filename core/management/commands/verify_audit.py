"""Walk the audit hash chain and name the first entry that does not hold."""

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from core.models import AuditChainHead, AuditLog
from core.services import GENESIS_HASH, audit_hash


def first_break():
    """(entry or None, problem) for the first break in the chain; None when it holds.

    Reads one snapshot (on PostgreSQL): entries committed meanwhile are not half-seen. The
    chain head must end exactly at the last entry, so entries appended or removed at the
    end without moving the head are found too.
    """
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return _walk()


def _walk():
    head = AuditChainHead.objects.filter(pk=1).first()
    expected_seq, previous = 1, GENESIS_HASH
    entries = AuditLog.objects.order_by("seq").iterator(chunk_size=5000)
    for entry in entries:
        if entry.seq != expected_seq:
            return entry, (
                f"entry #{expected_seq} is missing (the next entry is #{entry.seq}, "
                f"id {entry.pk}): entries were removed"
            )
        if entry.prev_hash != previous:
            return entry, (
                f"entry #{entry.seq} (id {entry.pk}) does not follow entry "
                f"#{entry.seq - 1}: its prev_hash is not that entry's hash"
            )
        if audit_hash(entry) != entry.hash:
            return entry, (
                f"entry #{entry.seq} (id {entry.pk}, {entry.action} "
                f"{entry.object_type}:{entry.object_id}) was changed after it was written: "
                "its content no longer matches its hash"
            )
        expected_seq, previous = entry.seq + 1, entry.hash
    last_seq = expected_seq - 1
    if head is None:
        return (None, None) if last_seq == 0 else (None, "the chain head is missing")
    if head.last_seq > last_seq:
        return None, (
            f"entries #{expected_seq} to #{head.last_seq} are missing: the chain ended at "
            f"#{head.last_seq}"
        )
    if head.last_seq < last_seq or head.last_hash != previous:
        return None, (
            f"entries after #{head.last_seq} were not appended by the application: the "
            f"chain head says #{head.last_seq}, the log ends at #{last_seq}"
        )
    return None, None


class Command(BaseCommand):
    help = (
        "Verify the audit log's hash chain: numbering without gaps, each entry linked to "
        "the one before, each entry's content matching its hash. Exit status 1 on a break."
    )

    def handle(self, *args, **options):
        _entry, problem = first_break()
        if problem:
            self.stderr.write(self.style.ERROR(f"Audit chain broken: {problem}."))
            raise SystemExit(1)
        count = AuditLog.objects.count()
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {count} entries verified."))
