"""A handheld's sync (POST /api/sync/): its client_ids as idempotency keys, and the
documents it sent that were refused (sync refusals), which wait for a manager to correct
and repost them as the representative, or to dismiss them with a reason.

Lock order: a refusal row is locked first, before anything the posting locks (the
customer, the representative, stock levels, the counter, the audit chain head), both
when a manager reposts it and when the handheld's resend posts and settles it.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from core.db import atomic_with_retry
from core.idempotency import REUSED
from core.models import Depot, IdempotencyKey, User
from core.scoping import actor_access_check
from core.services import audit_record
from sales.models import CylinderReturn, Payment, SyncRefusal, SyncRefusalStatus, Transaction
from stock.models import Distribution

NOTE_MAX_LENGTH = 255
OPEN = SyncRefusalStatus.OPEN

# post(sales_rep, doc_type, client_id, document) -> the number of the document posted,
# as the representative, through the same per-type path as the sync (sales.api_sync).
Poster = Callable[[User, str, str, dict[str, Any]], str]


def sync_key_claim(*, user: User, key: str, path: str, request_hash: str) -> bool:
    """Inside a synced document's transaction: `key` (its client_id) as `user`'s
    idempotency key for this request, recorded as the Idempotency-Key header records it
    (the single endpoint's path and body), so one key means one request on every
    endpoint, for good. No response is stored: a retry is answered from the document,
    which keeps its key too.

    True: the key is new (claimed until the transaction ends; a concurrent claim of it
    waits, then fails on the unique constraint). False: the same request had it before,
    so the posting service must hand its document back (a replay). Refused
    (idempotency_key_reused, on client_id) when it was used for another request."""
    record = IdempotencyKey.objects.filter(user=user, key=key).first()
    if record is None:
        IdempotencyKey.objects.create(
            user=user,
            key=key,
            path=path[:200],
            request_hash=request_hash,
            status_code=201,
            response={},
        )
        return True
    if record.request_hash != request_hash:
        raise key_reused_error(f"{record.created_at:%Y-%m-%d}")
    return False


def key_reused_error(when: str | None = None) -> ValidationError:
    since = f" on {when}" if when else ""
    return ValidationError(
        {
            "client_id": ValidationError(
                f"This client_id was already used{since} for a different document. Send "
                "the same document again, or a new document with a new client_id.",
                code=REUSED,
            )
        }
    )


def sync_refusals_open(*, sales_rep: User, client_ids: list[str]) -> set[str]:
    """The client_ids among these with an open refusal of the representative's."""
    return set(
        SyncRefusal.objects.filter(
            sales_rep=sales_rep, status=OPEN, client_id__in=client_ids
        ).values_list("client_id", flat=True)
    )


def sync_refusals_decided(*, sales_rep: User, client_ids: list[str]) -> dict[str, SyncRefusal]:
    """The client_ids among these whose refusal a manager has decided (reposted or
    dismissed), each with its latest decided refusal."""
    decided = (
        SyncRefusal.objects.filter(sales_rep=sales_rep, client_id__in=client_ids)
        .exclude(status=OPEN)
        .order_by("pk")
    )
    return {refusal.client_id: refusal for refusal in decided}


def sync_refusals_lock(*, sales_rep: User, client_id: str) -> list[SyncRefusal]:
    """The representative's open refusals of this client_id, locked (first, see above)."""
    return list(
        SyncRefusal.objects.select_for_update()
        .filter(sales_rep=sales_rep, client_id=client_id, status=OPEN)
        .order_by("pk")
    )


def sync_refusals_settle(*, refusals: list[SyncRefusal], number: str, actor: User) -> None:
    """The handheld sent a refused document again and it posted as `number`: its open
    refusals are settled (REPOSTED by the representative), in the posting's transaction
    (the rows locked by sync_refusals_lock)."""
    now = timezone.now()
    for refusal in refusals:
        refusal.status = SyncRefusalStatus.REPOSTED
        refusal.reposted_number = number
        refusal.resolved_by = actor
        refusal.resolved_at = now
        refusal.resolution_note = "Sent again by the handheld and posted."
        refusal.save(
            update_fields=[
                "status",
                "reposted_number",
                "resolved_by",
                "resolved_at",
                "resolution_note",
            ]
        )


@atomic_with_retry
def sync_refusal_record(
    *,
    sales_rep: User,
    client_id: str,
    doc_type: str,
    document: dict[str, Any],
    error: dict[str, Any],
    occurred_at: datetime | None,
    depot: Depot | None,
) -> SyncRefusal | None:
    """Keep a refused document, as sent, with the reason (`error`: the API's error,
    code, message and fields), for a manager.

    One open refusal per representative and client_id: refused again, it is brought up to
    date (the document and reason of the latest attempt). A document a manager already
    decided on (reposted corrected, or dismissed) that the handheld sends again as it was
    is not opened again: None."""
    decided = SyncRefusal.objects.filter(
        sales_rep=sales_rep, client_id=client_id, document=document
    ).exclude(status=OPEN)
    if decided.exists():
        return None
    fields = {
        "doc_type": doc_type,
        "document": document,
        "error_code": str(error.get("code") or "invalid")[:60],
        "error_message": str(error.get("message") or ""),
        "error_fields": error.get("fields") or {},
        "occurred_at": occurred_at,
        "depot": depot,
    }
    existing = sync_refusals_lock(sales_rep=sales_rep, client_id=client_id)
    if existing:
        refusal = existing[-1]
        for name, value in fields.items():
            setattr(refusal, name, value)
        refusal.save(update_fields=list(fields))
        return refusal
    return SyncRefusal.objects.create(sales_rep=sales_rep, client_id=client_id, **fields)


def _open_refusal(refusal: SyncRefusal) -> SyncRefusal:
    locked = SyncRefusal.objects.select_for_update().get(pk=refusal.pk)
    if locked.status != OPEN:
        raise ValidationError(
            f"This refusal was already settled ({locked.get_status_display().lower()}"
            f"{' as ' + locked.reposted_number if locked.reposted_number else ''}).",
            code="sync_refusal_settled",
        )
    return locked


def _note(note: object, *, field: str, required: bool) -> str:
    def refused(message: str, code: str) -> ValidationError:
        return ValidationError({field: ValidationError(message, code=code)})

    if not isinstance(note, str):
        raise refused("Write it as text.", "invalid")
    note = note.strip()
    if required and not note:
        raise refused("Say why it is dismissed.", "required")
    if len(note) > NOTE_MAX_LENGTH:
        raise refused(
            f"Use at most {NOTE_MAX_LENGTH} characters ({len(note)} given).", "max_length"
        )
    if any(ord(c) < 32 and c not in "\t\n\r" for c in note):
        raise refused("It may not hold control characters.", "invalid")
    return note


@atomic_with_retry
def sync_refusal_repost(
    *,
    refusal: SyncRefusal,
    document: dict[str, Any],
    actor: User,
    post: Poster,
    note: str = "",
) -> SyncRefusal:
    """Post a refused document, as corrected by a manager (`actor`), as the
    representative who sent it (the document's actor), under its client_id, through
    `post` (the sync's own per-type path). The refusal is settled REPOSTED with the
    number, resolved by the manager, and audited (sync_refusal_repost), in the same
    transaction: refused again, nothing is written and the refusal stays open."""
    note = _note(note, field="note", required=False)
    if not isinstance(document, dict):
        raise ValidationError(
            {"document": ValidationError("The document is not an object.", code="invalid")}
        )
    locked = _open_refusal(refusal)
    number = post(locked.sales_rep, locked.doc_type, locked.client_id, document)
    # Posted as the representative, checked as them; the manager must manage where it
    # landed too (a customer of another depot, a representative moved since): else all
    # of it is rolled back (PermissionDenied).
    actor_access_check(actor=actor, depot=_posted_depot(locked.doc_type, number))
    locked.status = SyncRefusalStatus.REPOSTED
    locked.reposted_number = number
    locked.resolved_by = actor
    locked.resolved_at = timezone.now()
    locked.resolution_note = note or f"Corrected and posted by {actor.username}."
    locked.save(
        update_fields=["status", "reposted_number", "resolved_by", "resolved_at", "resolution_note"]
    )
    audit_record(
        actor=actor,
        action="sync_refusal_repost",
        obj=locked,
        data={
            "client_id": locked.client_id,
            "type": locked.doc_type,
            "sales_rep": locked.sales_rep.username,
            "number": number,
            "refused": locked.error_code,
            "sent": locked.document,
            "posted": document,
            "note": locked.resolution_note,
        },
        depot=locked.depot,
    )
    return locked


def _posted_depot(doc_type: str, number: str) -> Depot:
    found: dict[str, Any] = {
        "sale": Transaction.objects.filter(number=number),
        "payment": Payment.objects.filter(number=number),
        "distribution": Distribution.objects.filter(distribution_no=number),
        "return": CylinderReturn.objects.filter(number=number),
    }
    depot: Depot = found[doc_type].select_related("depot").get().depot
    return depot


@atomic_with_retry
def sync_refusal_dismiss(*, refusal: SyncRefusal, actor: User, reason: str) -> SyncRefusal:
    """Close a refused document without posting it, with the manager's reason (audited
    as sync_refusal_dismiss). The handheld sending it again as it was does not open it
    again (see sync_refusal_record)."""
    reason = _note(reason, field="reason", required=True)
    locked = _open_refusal(refusal)
    locked.status = SyncRefusalStatus.DISMISSED
    locked.resolved_by = actor
    locked.resolved_at = timezone.now()
    locked.resolution_note = reason
    locked.save(update_fields=["status", "resolved_by", "resolved_at", "resolution_note"])
    audit_record(
        actor=actor,
        action="sync_refusal_dismiss",
        obj=locked,
        data={
            "client_id": locked.client_id,
            "type": locked.doc_type,
            "sales_rep": locked.sales_rep.username,
            "refused": locked.error_code,
            "reason": reason,
        },
        depot=locked.depot,
    )
    return locked
