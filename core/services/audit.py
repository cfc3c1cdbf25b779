"""The audit log: entries appended to an HMAC-keyed hash chain in the action's own
transaction, and anchors of the chain kept outside the database."""

import hashlib
import hmac
import json
import logging
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.utils import timezone

from core.models import AuditAnchorRecord, AuditChainHead, AuditLog, Depot, User
from core.services.moments import posting_moment

if TYPE_CHECKING:
    from core.selectors import AuditChainCheck

GENESIS_HASH = "0" * 64
# core_auditlog.writer_version of what this code appends. The column has no database
# default, so code that does not name it (the release before AUDIT_HMAC_KEY, still running
# in a rolling deploy) cannot append: see migration 0014.
AUDIT_WRITER_VERSION = 2


def audit_canonical(entry: AuditLog) -> bytes:
    """The bytes an entry's hash covers: the previous hash and the entry itself."""
    return json.dumps(
        {
            "seq": entry.seq,
            "prev_hash": entry.prev_hash,
            "actor": entry.actor_id,
            "action": entry.action,
            "object_type": entry.object_type,
            "object_id": entry.object_id,
            "depot": entry.depot_id,
            "data": entry.data,
            "created_at": entry.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def audit_hash(entry: AuditLog) -> str:
    """HMAC-SHA256 of the entry, keyed with AUDIT_HMAC_KEY. The key is kept outside the
    database, so whoever can write the database cannot compute the hash of a changed
    entry, nor re-hash the entries after it."""
    return hmac.new(
        settings.AUDIT_HMAC_KEY.encode(), audit_canonical(entry), hashlib.sha256
    ).hexdigest()


def audit_hash_unkeyed(entry: AuditLog) -> str:
    """Plain SHA-256: how entries were hashed before AUDIT_HMAC_KEY. Only entries up to
    the chain's seal (core.models.AuditChainSeal) may be hashed so."""
    return hashlib.sha256(audit_canonical(entry)).hexdigest()


def audit_seal_mac(*, seq: int, hash: str) -> str:
    """The seal's MAC over the last unkeyed entry: only the key holder can write one."""
    message = f"hsh-audit-seal:{seq}:{hash}".encode()
    return hmac.new(settings.AUDIT_HMAC_KEY.encode(), message, hashlib.sha256).hexdigest()


def audit_record(
    *,
    actor: User,
    action: str,
    obj: models.Model,
    data: dict[str, Any],
    depot: Depot | None = None,
    at: datetime | None = None,
) -> AuditLog:
    """Append the audit entry of a business action to the hash chain.

    Call inside the action's transaction, after its other locks: the chain head is locked
    until the transaction ends, so concurrent writers append one after another and the
    chain never forks. `at` is the action's moment (the entry's created_at, which its
    hash covers); None means now.
    """
    return audit_record_many(
        actor=actor,
        entries=[{"action": action, "obj": obj, "data": data, "depot": depot}],
        at=at,
    )[0]


def audit_record_many(
    *, actor: User, entries: list[dict[str, Any]], at: datetime | None = None
) -> list[AuditLog]:
    """audit_record for many objects of one action at once (e.g. a rate-table import):
    the chain head is locked and moved once, and the entries written by one INSERT.
    Each entry is a dict of action, obj, data and depot; all are stamped `at` (None:
    now). The chain's order is the order entries are appended (seq), not their
    created_at: the demo seed appends history dated weeks back after today's entries."""
    if not entries:
        return []
    heads = AuditChainHead.objects.select_for_update().filter(pk=1)
    if connection.vendor == "postgresql":  # the hot path again: no query building
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT last_seq, last_hash FROM {AuditChainHead._meta.db_table} "  # noqa: S608
                "WHERE id = 1 FOR UPDATE"
            )
            head = cursor.fetchone()
    else:
        head = heads.values_list("last_seq", "last_hash").first()
    if head is None:  # the first entry ever
        AuditChainHead.objects.bulk_create([AuditChainHead(pk=1)], ignore_conflicts=True)
        head = heads.values_list("last_seq", "last_hash").get()
    now = posting_moment(at)
    rows: list[AuditLog] = []
    seq, prev = head
    for item in entries:
        seq += 1
        entry = audit_entry(
            actor=actor,
            action=item["action"],
            obj=item["obj"],
            depot=item.get("depot"),
            data=data_stored(item["data"]),
            created_at=now,
            seq=seq,
            prev_hash=prev,
        )
        prev = entry.hash
        rows.append(entry)
    if len(rows) == 1 and connection.vendor == "postgresql":
        _append_one(rows[0])  # every sale, payment and void: the hot path
        return rows
    AuditLog.objects.bulk_create(rows, batch_size=1000)
    AuditChainHead.objects.filter(pk=1).update(last_seq=seq, last_hash=prev)
    return rows


def data_stored(data: dict[str, Any]) -> dict[str, Any]:
    """An entry's data exactly as it is stored and hashed: JSON types only, as every
    database gives them back (floats as text: jsonb may rewrite 1e16 or -0.0)."""
    stored: dict[str, Any] = json.loads(json.dumps(data, cls=DjangoJSONEncoder), parse_float=str)
    return stored


def audit_entry(
    *,
    actor: User,
    action: str,
    obj: models.Model,
    depot: Depot | None,
    data: dict[str, Any],
    created_at: datetime,
    seq: int,
    prev_hash: str,
) -> AuditLog:
    """The entry after `prev_hash` in the chain, hashed (not saved). `data` as
    data_stored gives it."""
    entry = AuditLog(
        seq=seq,
        actor=actor,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        depot=depot,
        data=data,
        created_at=created_at,
        prev_hash=prev_hash,
        writer_version=AUDIT_WRITER_VERSION,
    )
    entry.hash = audit_hash(entry)
    return entry


def audit_insert_sql(entry: AuditLog) -> tuple[str, list[Any]]:
    """One statement (PostgreSQL) that writes `entry` and moves the chain head to it,
    returning the entry's id."""
    return (
        f"WITH entry AS (INSERT INTO {AuditLog._meta.db_table} "  # noqa: S608 - ours
        "(seq, actor_id, action, object_type, object_id, depot_id, data, created_at, "
        "prev_hash, hash, writer_version) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s) "
        f"RETURNING id AS entry_id) UPDATE {AuditChainHead._meta.db_table} head SET "
        "last_seq = %s, last_hash = %s FROM entry WHERE head.id = 1 RETURNING entry_id",
        [
            entry.seq,
            entry.actor_id,
            entry.action,
            entry.object_type,
            entry.object_id,
            entry.depot_id,
            json.dumps(entry.data),
            entry.created_at,
            entry.prev_hash,
            entry.hash,
            entry.writer_version,
            entry.seq,
            entry.hash,
        ],
    )


def _append_one(entry: AuditLog) -> None:
    """Write one entry and move the chain head in one statement. The head is the row
    every posting waits for, so the time it is held is kept short."""
    with connection.cursor() as cursor:
        cursor.execute(*audit_insert_sql(entry))
        entry.pk = cursor.fetchone()[0]
    entry._state.adding = False


logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditAnchor:
    """The chain's head at one moment. Kept outside the database, it lets verify_audit
    prove later that the chain still reaches it, unchanged."""

    seq: int
    hash: str
    taken_at: datetime
    verified_from: int = 1  # entries #verified_from..#seq were verified before it was taken

    @property
    def text(self) -> str:
        """What `manage.py verify_audit --anchor` takes."""
        return f"{self.seq}:{self.hash}"

    @property
    def verified(self) -> str:
        """What was verified before the anchor was taken, in words."""
        if self.seq == 0:
            return "the audit log has no entries yet"
        since = " (since the previous anchor)" if self.verified_from > 1 else ""
        return f"entries #{self.verified_from} to #{self.seq}{since}"

    @property
    def line(self) -> str:
        """One line for a person to keep."""
        return f"Audit anchor: {self.text} taken {self.taken_at.isoformat(timespec='seconds')}"


class AuditChainBroken(Exception):
    """The audit chain does not hold: no anchor was taken (see audit_anchor_send)."""

    def __init__(self, check: "AuditChainCheck") -> None:
        super().__init__(check.problem)
        self.check = check


class AuditAnchorNotSent(Exception):
    """The anchor was taken and recorded, but its e-mail could not be sent: `anchor` holds
    it, so it can still be kept by hand."""

    def __init__(self, anchor: AuditAnchor, error: BaseException) -> None:
        super().__init__(f"the anchor's e-mail could not be sent: {error}")
        self.anchor = anchor
        self.error = error


def audit_anchor_mac(*, seq: int, hash: str) -> str:
    """The MAC of a recorded anchor (AuditAnchorRecord): only the key holder writes one."""
    message = f"hsh-audit-anchor:{seq}:{hash}".encode()
    return hmac.new(settings.AUDIT_HMAC_KEY.encode(), message, hashlib.sha256).hexdigest()


def audit_anchor_send(
    *, recipients: Iterable[str] | None = None, full: bool = False
) -> AuditAnchor:
    """Verify the audit chain, then record its head where a database administrator cannot
    reach it: the log, and an e-mail to `recipients` (default AUDIT_ANCHOR_EMAILS; none:
    no e-mail).

    Whoever removes the newest entries and moves the head back, or rewrites entries even
    with the key, is then found by `verify_audit --anchor` with an anchor taken before.

    The chain is verified first, so that no anchor vouches for a forged chain: from the
    last anchor taken (AuditAnchorRecord) on, or whole when there is none or `full`. If it
    does not hold, no anchor is taken: the break is logged as an error, `recipients` get
    an alert naming the first broken entry, and AuditChainBroken is raised.
    """
    # Imported here: core.selectors imports core.services (the hashes it checks with),
    # and core.services imports this module.
    from core.selectors import AuditChainCheck, audit_chain_check

    recipients = list(settings.AUDIT_ANCHOR_EMAILS if recipients is None else recipients)
    start = None if full else AuditAnchorRecord.objects.order_by("-pk").first()
    if start is not None and not hmac.compare_digest(
        start.mac, audit_anchor_mac(seq=start.seq, hash=start.hash)
    ):
        check = AuditChainCheck(
            f"the last anchor recorded in the database (#{start.seq}, taken "
            f"{start.taken_at:%Y-%m-%d}) was not made with AUDIT_HMAC_KEY: someone wrote it "
            "to make a forged chain look verified (or AUDIT_HMAC_KEY changed); verify the "
            "whole chain with `manage.py audit_anchor --full`"
        )
    else:
        check = audit_chain_check(start=None if start is None else (start.seq, start.hash))
    if not check.intact:
        _audit_chain_alert(check, recipients)
        raise AuditChainBroken(check)
    anchor = AuditAnchor(
        seq=check.head_seq,
        hash=check.head_hash,
        taken_at=timezone.now(),
        verified_from=check.first_checked,
    )
    AuditAnchorRecord.objects.create(
        seq=anchor.seq,
        hash=anchor.hash,
        mac=audit_anchor_mac(seq=anchor.seq, hash=anchor.hash),
        taken_at=anchor.taken_at,
    )
    logger.info("%s (verified first: %s)", anchor.line, anchor.verified)
    if recipients:
        try:
            _audit_anchor_mail(anchor, recipients)
        except (OSError, smtplib.SMTPException) as exc:
            logger.error("%s; e-mail to %s failed: %s", anchor.line, ", ".join(recipients), exc)
            raise AuditAnchorNotSent(anchor, exc) from exc
    return anchor


def _audit_anchor_mail(anchor: AuditAnchor, recipients: list[str]) -> None:
    send_mail(
        f"HSH audit anchor #{anchor.seq} ({anchor.taken_at:%Y-%m-%d})",
        f"{anchor.line}\n"
        f"Verified before it was taken: {anchor.verified}.\n\n"
        "Keep this e-mail. It records the end of the audit log's hash chain at that "
        "moment, outside the database. To prove later that no entry up to it was "
        "changed or removed, run:\n\n"
        f"    python manage.py verify_audit --anchor {anchor.text}\n",
        None,
        recipients,
    )


def _audit_chain_alert(check: "AuditChainCheck", recipients: list[str]) -> None:
    """The chain does not hold: say so loudly, to the log and to the anchor's readers."""
    entry = check.entry
    where = (
        f"The first broken entry is #{entry.seq} (id {entry.pk}, {entry.action} "
        f"{entry.object_type}:{entry.object_id}, written "
        f"{entry.created_at.isoformat(timespec='seconds')}).\n\n"
        if entry is not None
        else ""
    )
    logger.error("Audit chain broken, no anchor taken: %s", check.problem)
    if not recipients:
        return
    send_mail(
        "HSH audit chain BROKEN: no anchor taken"
        + (f" (entry #{entry.seq})" if entry is not None else ""),
        "The audit log was verified before today's anchor, and it does not hold:\n\n"
        f"    {check.problem}.\n\n"
        f"{where}"
        "No anchor was taken, so none vouches for the log as it is now. Someone with "
        "access to the database may have changed or removed entries. Run\n\n"
        "    python manage.py verify_audit --anchor SEQ:HASH\n\n"
        "with the anchors kept from earlier e-mails, and find out who wrote the database "
        "(its logs, the database roles' activity) before trusting the audit log again.\n",
        None,
        recipients,
    )
