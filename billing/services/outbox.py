"""Sending the outbox: the e-mails postings wrote (core.OutboxMessage), with the
document's PDF attached, retried with backoff, resent by head office.

What "goes once" means here, and its limit. A message is claimed before it is sent: in
one short transaction its row is locked (SELECT ... FOR UPDATE SKIP LOCKED, so two
workers never take the same one), marked SENDING with a lease (OUTBOX_LEASE_SECONDS) and
committed. Then it is sent, and right after the mail server accepts it the row is marked
SENT by one UPDATE that commits at once. So a message is never sent by two workers
together, and never again once SENT; a broker that was down at posting time only delays
it to the beat's next run.

The mail server's accept and the commit of SENT cannot be one transaction. If a worker
dies between the two (a few milliseconds: nothing else happens in between), the lease
runs out, the message is taken again and the customer may get it twice. Every message
carries a Message-ID made from its own key (the same on every attempt), so the
recipient's mail server can tell it has seen it. A worker that dies before the accept
leaves a message that is simply sent later. A send that takes longer than the lease (the
SMTP connection times out well before it: OUTBOX_LEASE_SECONDS / 3) would be the other way
to send twice.
"""

import logging
import smtplib
from datetime import timedelta
from email.utils import parseaddr
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from billing.services.documents import document_pdf
from billing.services.returns import cylinder_return_pdf
from core.models import OutboxKind, OutboxMessage, OutboxStatus, Role, User
from core.services import audit_record
from core.services.outbox import outbox_send_soon

logger = logging.getLogger(__name__)

# Backoff after the n-th failed attempt: a minute, doubling, at most six hours apart.
RETRY_FIRST = timedelta(minutes=1)
RETRY_MOST = timedelta(hours=6)
REASON_MAX = 1000


def outbox_send(*, limit: int = 100) -> int:
    """Send up to `limit` due messages, one after another; return how many were sent.

    Due: waiting messages whose time has come, and messages left SENDING by a worker
    whose lease ran out. A failure keeps its reason (last_error) and is tried again
    after a backoff (1 min, 2, 4, ... at most 6 h); after OUTBOX_MAX_ATTEMPTS attempts,
    or at once when the mail server refuses the address for good, it is FAILED.

    Each e-mail goes once: a claim (FOR UPDATE SKIP LOCKED, then SENDING with a lease,
    committed) gives it to one sender, and SENT is committed the moment the mail server
    accepts it. The limit: the accept and that commit are not one transaction, so a
    worker that dies between them leaves a message that is sent again when its lease
    ends, with the same Message-ID for the recipient's server to drop the repeat (the
    module's docstring says more). So this is not one transaction, on purpose: each
    claim and each outcome commits on its own, and the mail server is spoken to outside
    any."""
    sent = 0
    connection: BaseEmailBackend | None = None
    try:
        for _ in range(limit):
            claimed = _claim()
            if claimed is None:
                break
            try:
                email = _email(claimed)
                if connection is None:
                    connection = _mail_connection()
                email.connection = connection
                email.send()
            except Exception as exc:  # every failure is kept with its reason and retried
                logger.warning("Outbox message %s not sent: %s", claimed.pk, exc)
                _failed(claimed, exc)
                if connection is not None:
                    connection.close()  # a broken session is not reused
                    connection = None
                continue
            _sent(claimed)
            sent += 1
    finally:
        if connection is not None:
            connection.close()
    return sent


def _claim() -> OutboxMessage | None:
    """The next due message, marked SENDING with a lease, committed; None when none is
    due. A message whose lease ran out on its last allowed attempt is FAILED instead."""
    while True:
        with transaction.atomic():
            now = timezone.now()
            message = (
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(
                    status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING],
                    next_attempt_at__lte=now,
                )
                .order_by("next_attempt_at", "pk")
                .first()
            )
            if message is None:
                return None
            lost = message.status == OutboxStatus.SENDING
            if lost and message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                _mark(
                    message,
                    status=OutboxStatus.FAILED,
                    last_error=f"{_lost_reason(message)} It is not tried again.",
                )
                continue
            # The row lock makes this the only claim; the condition keeps SQLite (no
            # row locks) and a claim raced by an expired lease honest too.
            claimed = _mark(
                message,
                status=OutboxStatus.SENDING,
                attempts=message.attempts + 1,
                next_attempt_at=now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS),
                last_error=_lost_reason(message) if lost else message.last_error,
            )
            if claimed:
                return message


def _mark(message: OutboxMessage, **values: object) -> bool:
    """Update `message` if it is still as it was read (status and attempts); the
    instance takes the new values. False when another worker changed it meanwhile."""
    changed = OutboxMessage.objects.filter(
        pk=message.pk, status=message.status, attempts=message.attempts
    ).update(**values)
    if changed:
        for name, value in values.items():
            setattr(message, name, value)
    return bool(changed)


def _lost_reason(message: OutboxMessage) -> str:
    return (
        f"The worker sending attempt {message.attempts} stopped before it finished "
        "(it may have been sent)."
    )


def _sent(message: OutboxMessage) -> None:
    if not _mark(message, status=OutboxStatus.SENT, sent_at=timezone.now(), last_error=""):
        # Our lease ran out mid-send and another worker took it over: it may go twice.
        logger.warning(
            "Outbox message %s was sent after its lease ran out; another worker had taken it over.",
            message.pk,
        )


def _failed(message: OutboxMessage, exc: BaseException) -> None:
    reason, permanent = _reason(message, exc)
    now = timezone.now()
    if permanent or message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        _mark(message, status=OutboxStatus.FAILED, last_error=reason, next_attempt_at=now)
        return
    _mark(
        message,
        status=OutboxStatus.PENDING,
        last_error=reason,
        next_attempt_at=now + retry_delay(message.attempts),
    )


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt."""
    doublings = min(max(attempts - 1, 0), 20)
    return min(RETRY_FIRST * (1 << doublings), RETRY_MOST)


def _reason(message: OutboxMessage, exc: BaseException) -> tuple[str, bool]:
    """What went wrong, for a clerk, and whether trying again cannot help."""
    permanent = False
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        answers = "; ".join(
            f"{code} {text.decode(errors='replace')}" for code, text in exc.recipients.values()
        )
        reason = f"The mail server refused the address {message.to}: {answers}"
        permanent = all(500 <= code < 600 for code, _text in exc.recipients.values())
    elif isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error
        text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
        reason = f"The mail server answered {exc.smtp_code}: {text}"
    elif isinstance(exc, OSError):  # smtplib's errors are OSErrors too
        reason = f"Could not reach the mail server: {str(exc) or type(exc).__name__}"
    else:
        reason = f"Could not prepare the e-mail: {type(exc).__name__}: {exc}"
    return reason[:REASON_MAX], permanent


def _mail_connection() -> BaseEmailBackend:
    # Well inside the lease: a hung mail server fails the attempt before another
    # worker could take the message over.
    timeout = settings.EMAIL_TIMEOUT or settings.OUTBOX_LEASE_SECONDS / 3
    connection: BaseEmailBackend = get_connection(
        timeout=min(timeout, settings.OUTBOX_LEASE_SECONDS / 3)
    )
    return connection


def message_id(message: OutboxMessage) -> str:
    """The message's Message-ID: the same on every attempt, unique to it."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return f"<outbox.{message.key}@{domain}>"


def _email(message: OutboxMessage) -> EmailMessage:
    """The e-mail for `message`: subject and body from templates/billing/email/, the
    document's PDF attached."""
    model = apps.get_model(message.document_type)
    document = model._default_manager.get(pk=message.document_id)
    # A credit note names its customer through the sale it reverses.
    customer = getattr(document, "customer", None) or document.transaction.customer
    context = {
        "message": message,
        "document": document,
        "customer": customer,
        "kind": message.get_kind_display(),
        "company": settings.COMPANY_NAME,
        "amount_due": getattr(document, "total_amount", 0) - getattr(document, "amount_paid", 0),
    }
    name = message.kind.lower()
    subject = render_to_string(f"billing/email/{name}_subject.txt", context)
    body = render_to_string(f"billing/email/{name}_body.txt", context)
    email = EmailMessage(
        subject=" ".join(subject.split()),  # one line, whatever the template's layout
        body=body,
        to=[message.to],
        headers={"Message-ID": message_id(message)},
    )
    filename, content = _attachment(message, document)
    email.attach(filename, content, "application/pdf")
    return email


def _attachment(message: OutboxMessage, document: Any) -> tuple[str, bytes]:
    """The PDF `message` attaches: a cylinder return's receipt (billing.services.returns),
    or the document's own (billing.services.documents.document_pdf)."""
    if message.kind == OutboxKind.RETURN:
        return f"{document.number}.pdf", cylinder_return_pdf(cylinder_return=document)
    return document_pdf(message)


@transaction.atomic
def outbox_resend(*, message: OutboxMessage, actor: User, to: str | None = None) -> OutboxMessage:
    """Send a document's e-mail again (head office): a new message for the same
    document, to `to` or the same address, due at once. The message it repeats keeps its
    own story (sent, or failed and why). One still waiting or being sent is refused:
    it is on its way."""
    if not (actor.is_superuser or actor.role == Role.ADMIN):
        raise PermissionDenied("E-mails are resent by head office.")
    original = OutboxMessage.objects.select_for_update().get(pk=message.pk)
    if original.status in (OutboxStatus.PENDING, OutboxStatus.SENDING):
        raise ValidationError(
            f"The e-mail of {original.number} to {original.to} is "
            f"{original.get_status_display().lower()}; it needs no resend.",
            code="outbox_not_finished",
        )
    address = original.to if to is None else to.strip()
    try:
        validate_email(address)
    except ValidationError:
        refusal = ValidationError(f"{address!r} is not an e-mail address.", code="invalid_email")
        raise ValidationError({"to": refusal}) from None
    now = timezone.now()
    again = OutboxMessage.objects.create(
        kind=original.kind,
        document_type=original.document_type,
        document_id=original.document_id,
        number=original.number,
        to=address,
        next_attempt_at=now,
        created_at=now,
        resend_of=original,
    )
    audit_record(
        actor=actor,
        action="outbox_resend",
        obj=again,
        at=now,
        data={
            "number": original.number,
            "kind": original.kind,
            "to": address,
            "resend_of": original.pk,
            "previous_status": original.status,
        },
    )
    transaction.on_commit(outbox_send_soon, robust=True)
    return again
