"""Walk the audit hash chain and name the first entry that does not hold."""

import hmac
import re

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from core.models import AuditChainHead, AuditChainSeal, AuditLog
from core.services import GENESIS_HASH, audit_hash, audit_hash_unkeyed, audit_seal_mac

ANCHOR = re.compile(r"(\d+):([0-9a-f]{64})")


def parse_anchor(text: str) -> tuple[int, str]:
    """(seq, hash) of an anchor as `audit_anchor` prints it: SEQ:HASH."""
    match = ANCHOR.fullmatch(text.strip().lower())
    if match is None:
        raise CommandError(
            f"The anchor {text!r} is not SEQ:HASH as `manage.py audit_anchor` prints it "
            "(an entry number, a colon and 64 hexadecimal digits)."
        )
    return int(match[1]), match[2]


def first_break(anchors=()):
    """(entry or None, problem) for the first break in the chain; (None, None) when it
    holds.

    Reads one snapshot (on PostgreSQL): entries committed meanwhile are not half-seen. The
    chain head must end exactly at the last entry, so entries appended or removed at the
    end without moving the head are found too. Each anchor (seq, hash), kept outside the
    database, must still be in the chain with that hash: that finds a removed tail whose
    head was moved back, and a chain re-forged by someone holding the key.
    """
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return _walk(dict(anchors))


def _seal():
    """(last unkeyed seq, its hash) from the seal, or a problem. No seal: every entry must
    be keyed (see AuditChainSeal for why the boundary is sealed, not stored per entry)."""
    seals = list(AuditChainSeal.objects.order_by("seq")[:2])
    if not seals:
        return (0, GENESIS_HASH), None
    if len(seals) > 1:
        return None, "there is more than one seal: the seal is written once, by a migration"
    seal = seals[0]
    if not hmac.compare_digest(seal.mac, audit_seal_mac(seq=seal.seq, hash=seal.hash)):
        return None, (
            f"the seal saying entries up to #{seal.seq} predate the key was not made with "
            "AUDIT_HMAC_KEY: it was forged, or AUDIT_HMAC_KEY is not the key the chain "
            "was written with"
        )
    return (seal.seq, seal.hash), None


def _walk(anchors):
    head = AuditChainHead.objects.filter(pk=1).first()
    sealed, problem = _seal()
    if problem:
        return None, problem
    sealed_seq, sealed_hash = sealed
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
        keyed = entry.seq > sealed_seq
        if (audit_hash(entry) if keyed else audit_hash_unkeyed(entry)) != entry.hash:
            return entry, (
                f"entry #{entry.seq} (id {entry.pk}, {entry.action} "
                f"{entry.object_type}:{entry.object_id}) was changed after it was written: "
                "its content no longer matches its hash"
                + (" (or AUDIT_HMAC_KEY is not the key it was written with)" if keyed else "")
            )
        if entry.seq == sealed_seq and entry.hash != sealed_hash:
            return entry, (
                f"entries up to #{sealed_seq} were rewritten after they were sealed: entry "
                f"#{entry.seq}'s hash is not the sealed one"
            )
        if entry.seq in anchors and entry.hash != anchors[entry.seq]:
            return entry, (
                f"entry #{entry.seq} no longer has the anchored hash: entries up to it "
                "were rewritten after the anchor was taken"
            )
        expected_seq, previous = entry.seq + 1, entry.hash
    last_seq = expected_seq - 1
    if sealed_seq > last_seq:
        return None, (
            f"the chain was sealed at #{sealed_seq} but ends at #{last_seq}: entries were removed"
        )
    if head is None and last_seq > 0:
        return None, "the chain head is missing"
    if head is not None and head.last_seq > last_seq:
        return None, (
            f"entries #{expected_seq} to #{head.last_seq} are missing: the chain ended at "
            f"#{head.last_seq}"
        )
    if head is not None and (head.last_seq < last_seq or head.last_hash != previous):
        return None, (
            f"entries after #{head.last_seq} were not appended by the application: the "
            f"chain head says #{head.last_seq}, the log ends at #{last_seq}"
        )
    for seq in sorted(anchors):
        if seq > last_seq:
            return None, (
                f"the chain ends at #{last_seq}, before the anchor #{seq}: entries were "
                "removed from its end"
            )
        if seq == 0 and anchors[seq] != GENESIS_HASH:
            return None, "anchor #0 is not this chain's: its hash must be all zeros"
    return None, None


class Command(BaseCommand):
    help = (
        "Verify the audit log's hash chain: numbering without gaps, each entry linked to "
        "the one before, each entry's content matching its keyed hash (AUDIT_HMAC_KEY), "
        "and, with --anchor, that the chain still reaches each anchor unchanged. Exit "
        "status 1 on a break."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="SEQ:HASH",
            help="an anchor printed or e-mailed by `manage.py audit_anchor` (repeatable)",
        )

    def handle(self, *args, anchor=(), **options):
        anchors = {}
        for seq, anchored in map(parse_anchor, anchor):
            if anchors.setdefault(seq, anchored) != anchored:
                raise CommandError(f"Two anchors for entry #{seq} disagree: one is not real.")
        _entry, problem = first_break(anchors.items())
        if problem:
            self.stderr.write(self.style.ERROR(f"Audit chain broken: {problem}."))
            raise SystemExit(1)
        count = AuditLog.objects.count()
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {count} entries verified."))
        for seq in sorted(anchors):
            self.stdout.write(f"anchor #{seq} holds: the entry still has the anchored hash.")
