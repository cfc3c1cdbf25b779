"""Celery tasks of billing: fetch by id, call a service, nothing else."""

from celery import shared_task

from billing import services


@shared_task
def outbox_send_due() -> int:
    """Send the outbox's due e-mails. Sent by a posting right after its commit
    (core.services.outbox, by this task's name) and by celery beat every minute, which
    catches what a posting could not hand over (the broker was down) and the retries."""
    return services.outbox_send()
