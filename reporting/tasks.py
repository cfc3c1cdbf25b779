"""Celery tasks: fetch by id, call a service, nothing else."""

from celery import shared_task

from reporting import services


@shared_task
def export_job_run(job_id: int) -> None:
    services.export_job_build(job_id=job_id)


@shared_task(bind=True)
def schedule_run(self, schedule_id: int) -> None:
    services.schedule_run(schedule_id=schedule_id, run_key=self.request.id)


@shared_task
def export_jobs_requeue_stale() -> None:
    services.export_jobs_requeue_stale()
