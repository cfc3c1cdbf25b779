"""Housekeeping tasks for core."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone


@shared_task
def housekeeping_purge() -> None:
    """The API's record of Idempotency-Keys and their responses older than
    IDEMPOTENCY_KEY_HOURS, and used confirm-button tokens older than a day, are no longer
    needed. (Keys still hold after this: each document keeps its key and a fingerprint of
    the request for good, see core.idempotency.)"""
    from core.models import IdempotencyKey, SubmissionToken

    now = timezone.now()
    IdempotencyKey.objects.filter(
        created_at__lt=now - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
    ).delete()
    SubmissionToken.objects.filter(created_at__lt=now - timedelta(days=1)).delete()


@shared_task
def audit_anchor_daily() -> None:
    """Celery beat, daily: e-mail the audit chain's head to AUDIT_ANCHOR_EMAILS."""
    from core.services import audit_anchor_send

    audit_anchor_send()
