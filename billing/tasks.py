"""Celery tasks of billing: fetch by id, call a service, nothing else."""

from celery import shared_task

from billing import services
from billing.models import StatementRun


@shared_task
def outbox_send_due() -> int:
    """Send the outbox's due e-mails. Sent by a posting right after its commit
    (core.services.outbox, by this task's name) and by celery beat every minute, which
    catches what a posting could not hand over (the broker was down) and the retries."""
    return services.outbox_send()


@shared_task
def statement_run_work(run_id: int) -> None:
    """Issue the statements of one run (billing.services.statement_run_execute); sent when
    the run starts, and again by statement_runs_resume for a run that lost its worker."""
    services.statement_run_execute(run=StatementRun.objects.get(pk=run_id))


@shared_task
def statement_run_monthly() -> int:
    """The beat's monthly run (day 1, 02:00 business time): last month's statements."""
    return services.statement_run_monthly().pk


@shared_task
def statement_runs_resume() -> list[int]:
    """The beat's pick-up, every 10 minutes: runs left QUEUED or stalled RUNNING."""
    return services.statement_runs_resume()
