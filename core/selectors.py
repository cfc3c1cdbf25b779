"""Reads for core: whether the audit chain holds."""

import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction

from core.models import AuditChainHead, AuditChainSeal, AuditLog
from core.services import GENESIS_HASH, audit_hash, audit_hash_unkeyed, audit_seal_mac


@dataclass(frozen=True)
class AuditChainCheck:
    """What a walk of the audit chain found, in one snapshot."""

    problem: str | None  # None: the chain holds
    entry: AuditLog | None = None  # the first entry that does not hold, when one does
    head_seq: int = 0  # where the chain ends (when it holds)
    head_hash: str = GENESIS_HASH
    first_checked: int = 1  # the entries whose hashes were recomputed: first_checked..
    checked: int = 0  # ...and how many

    @property
    def intact(self) -> bool:
        return self.problem is None


def audit_chain_check(
    *, anchors: Iterable[tuple[int, str]] = (), start: tuple[int, str] | None = None
) -> AuditChainCheck:
    """Walk the audit hash chain and name the first break.

    Reads one snapshot (on PostgreSQL): entries committed meanwhile are not half-seen, and
    the head returned is the end of what was checked. The chain head must end exactly at
    the last entry, so entries appended or removed at the end without moving the head are
    found too. Each anchor (seq, hash), kept outside the database, must still be in the
    chain with that hash: that finds a removed tail whose head was moved back, and a chain
    re-forged by someone holding the key.

    `start`, an anchor verified before (seq, hash): walk from that entry on instead of from
    the first. The entry must still carry that hash and its own keyed hash; the entries
    before it are not read again. A full walk takes about 2 s per 100,000 entries.
    """
    anchored = dict(anchors)
    if start is not None:
        anchored[start[0]] = start[1]
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return _walk(anchored, since=start[0] if start is not None and start[0] > 0 else 1)


def _seal() -> tuple[int, str] | str:
    """(last unkeyed seq, its hash) from the seal, or the problem with it (a str). No seal:
    every entry must be keyed (see AuditChainSeal for why the boundary is sealed, not stored
    per entry)."""
    seals = list(AuditChainSeal.objects.order_by("seq")[:2])
    if not seals:
        return (0, GENESIS_HASH)
    if len(seals) > 1:
        return "there is more than one seal: the seal is written once, by a migration"
    seal = seals[0]
    if not hmac.compare_digest(seal.mac, audit_seal_mac(seq=seal.seq, hash=seal.hash)):
        return (
            f"the seal saying entries up to #{seal.seq} predate the key was not made with "
            "AUDIT_HMAC_KEY: it was forged, or AUDIT_HMAC_KEY is not the key the chain "
            "was written with"
        )
    return (seal.seq, seal.hash)


def _walk(anchors: dict[int, str], *, since: int) -> AuditChainCheck:
    head = AuditChainHead.objects.filter(pk=1).first()
    sealed = _seal()
    if isinstance(sealed, str):
        return AuditChainCheck(sealed)
    sealed_seq, sealed_hash = sealed
    # From the first entry the previous hash is known; from an anchored entry it is what
    # the entry says (its own keyed hash, checked below, covers it).
    expected_seq, previous = since, GENESIS_HASH if since == 1 else None
    entries = AuditLog.objects.filter(seq__gte=since).order_by("seq").iterator(chunk_size=5000)
    for entry in entries:
        if entry.seq != expected_seq:
            return AuditChainCheck(
                f"entry #{expected_seq} is missing (the next entry is #{entry.seq}, "
                f"id {entry.pk}): entries were removed",
                entry,
            )
        if previous is not None and entry.prev_hash != previous:
            return AuditChainCheck(
                f"entry #{entry.seq} (id {entry.pk}) does not follow entry "
                f"#{entry.seq - 1}: its prev_hash is not that entry's hash",
                entry,
            )
        keyed = entry.seq > sealed_seq
        if (audit_hash(entry) if keyed else audit_hash_unkeyed(entry)) != entry.hash:
            return AuditChainCheck(
                f"entry #{entry.seq} (id {entry.pk}, {entry.action} "
                f"{entry.object_type}:{entry.object_id}) was changed after it was written: "
                "its content no longer matches its hash"
                + (" (or AUDIT_HMAC_KEY is not the key it was written with)" if keyed else ""),
                entry,
            )
        if entry.seq == sealed_seq and entry.hash != sealed_hash:
            return AuditChainCheck(
                f"entries up to #{sealed_seq} were rewritten after they were sealed: entry "
                f"#{entry.seq}'s hash is not the sealed one",
                entry,
            )
        if entry.seq in anchors and entry.hash != anchors[entry.seq]:
            return AuditChainCheck(
                f"entry #{entry.seq} no longer has the anchored hash: entries up to it "
                "were rewritten after the anchor was taken",
                entry,
            )
        expected_seq, previous = entry.seq + 1, entry.hash
    last_seq = expected_seq - 1
    if previous is None:  # nothing from the anchored entry on: the chain ends before it
        last_seq = (
            AuditLog.objects.filter(seq__lt=since)
            .order_by("-seq")
            .values_list("seq", flat=True)
            .first()
            or 0
        )
        return AuditChainCheck(
            f"the chain ends at #{last_seq}, before the anchor #{since}: entries were "
            "removed from its end"
        )
    if sealed_seq > last_seq:
        return AuditChainCheck(
            f"the chain was sealed at #{sealed_seq} but ends at #{last_seq}: entries were removed"
        )
    if head is None and last_seq > 0:
        return AuditChainCheck("the chain head is missing")
    if head is not None and head.last_seq > last_seq:
        return AuditChainCheck(
            f"entries #{expected_seq} to #{head.last_seq} are missing: the chain ended at "
            f"#{head.last_seq}"
        )
    if head is not None and (head.last_seq < last_seq or head.last_hash != previous):
        return AuditChainCheck(
            f"entries after #{head.last_seq} were not appended by the application: the "
            f"chain head says #{head.last_seq}, the log ends at #{last_seq}"
        )
    for seq in sorted(anchors):
        if seq > last_seq:
            return AuditChainCheck(
                f"the chain ends at #{last_seq}, before the anchor #{seq}: entries were "
                "removed from its end"
            )
        if seq == 0 and anchors[seq] != GENESIS_HASH:
            return AuditChainCheck("anchor #0 is not this chain's: its hash must be all zeros")
    return AuditChainCheck(
        None,
        head_seq=last_seq,
        head_hash=previous,
        first_checked=since,
        checked=last_seq - since + 1,
    )
