"""The reporting app's services: export jobs (exports.py) and report schedules
(schedules.py). Callers import them from here."""

from reporting.services.exports import (
    HEARTBEAT_EVERY,
    LINK_MAX_AGE,
    MAX_ATTEMPTS,
    download_link,
    download_token_valid,
    export_job_build,
    export_job_email,
    export_job_request,
    export_jobs_requeue_stale,
    heartbeat_every,
    stale_after,
)
from reporting.services.schedules import (
    RUN_NOW_BUSY,
    resolve_period,
    schedule_delete,
    schedule_filters,
    schedule_run,
    schedule_run_now,
    schedule_save,
    schedule_validate,
)

__all__ = [
    "HEARTBEAT_EVERY",
    "LINK_MAX_AGE",
    "MAX_ATTEMPTS",
    "RUN_NOW_BUSY",
    "download_link",
    "download_token_valid",
    "export_job_build",
    "export_job_email",
    "export_job_request",
    "export_jobs_requeue_stale",
    "heartbeat_every",
    "resolve_period",
    "schedule_delete",
    "schedule_filters",
    "schedule_run",
    "schedule_run_now",
    "schedule_save",
    "schedule_validate",
    "stale_after",
]
