"""Housekeeping tasks for core."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone


@shared_task
def housekeeping_purge() -> None:
    """Hourly: empty the responses the API stored with Idempotency-Keys older than
    IDEMPOTENCY_KEY_HOURS, and delete used confirm-button tokens older than a day.

    Key records are kept, not deleted: each says which request a user's key was first
    used for, whatever the endpoint, so the key is refused for any other request for good
    (each document table knows only its own keys). Emptied, a record is a user, a key, a
    path, a hash and a status: about 200 bytes. A retry of the same request then gets its
    document back from the service, by the key kept on the document (core.api.idempotent)."""
    from core.models import IdempotencyKey, SubmissionToken

    now = timezone.now()
    due = IdempotencyKey.objects.filter(
        created_at__lt=now - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
    )
    # Records are emptied oldest first, so everything before the newest emptied one is
    # empty already: start there rather than read every key ever kept, every hour.
    done = (
        due.filter(response={}).order_by("-created_at").values_list("created_at", flat=True).first()
    )
    if done is not None:
        due = due.filter(created_at__gte=done)
    due.exclude(response={}).update(response={})
    SubmissionToken.objects.filter(created_at__lt=now - timedelta(days=1)).delete()


@shared_task
def audit_anchor_daily() -> None:
    """Celery beat, daily: verify the audit chain since the last anchor (on Sundays, the
    whole chain) and e-mail its head to AUDIT_ANCHOR_EMAILS. A chain that does not hold
    gets an alert instead, and the task fails (AuditChainBroken), so monitoring sees it."""
    from django.utils import timezone

    from core.services import audit_anchor_send

    # On Sundays the whole chain is walked (about 20 s per million entries), so an old
    # entry changed without the key is found within a week, not only at the next audit.
    audit_anchor_send(full=timezone.localdate().isoweekday() == 7)
