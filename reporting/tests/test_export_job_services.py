"""reporting.services edges: a job whose report left the catalogue fails with that said; a
job without a schedule is not e-mailed (and not claimed for e-mailing); a download link's
token holds for its own job only."""

import pytest
from django.core import mail

from reporting.models import ExportJob, JobStatus
from reporting.services import (
    download_token_valid,
    export_job_build,
    export_job_email,
    export_job_request,
)


@pytest.mark.django_db
def test_a_job_whose_report_is_gone_fails_saying_so(head_office):
    job = ExportJob.objects.create(requested_by=head_office, report="retired-report", format="csv")

    export_job_build(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "report: there is no report 'retired-report' any more"


@pytest.mark.django_db
def test_a_job_without_a_schedule_is_not_emailed(head_office):
    job = ExportJob.objects.create(
        requested_by=head_office, report="receivables", format="csv", status=JobStatus.DONE
    )

    assert export_job_email(job=job) is False

    job.refresh_from_db()
    assert job.emailed_at is None
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_download_token_opens_its_own_job_only(head_office):
    from django.core import signing

    first = ExportJob.objects.create(requested_by=head_office, report="receivables", format="csv")
    second = ExportJob.objects.create(requested_by=head_office, report="receivables", format="csv")
    token = signing.dumps(first.pk, salt="export-download")

    assert download_token_valid(first, token)
    assert not download_token_valid(second, token)
    assert not download_token_valid(first, token + "x")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("request_", "field", "code"),
    [
        ({"report": "no-such-report", "filters": {}, "format": "csv"}, "report", "unknown_report"),
        ({"report": "receivables", "filters": {}, "format": "pdf"}, "format", "invalid"),
    ],
)
def test_an_export_of_an_unknown_report_or_format_is_refused(head_office, request_, field, code):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        export_job_request(actor=head_office, **request_)

    assert [e.code for e in refused.value.error_dict[field]] == [code]
    assert not ExportJob.objects.exists()


def _dead_attempt(head_office, tmp_path, attempts):
    """A job whose worker died while writing attempt `attempts`: its half file on disk."""
    from datetime import timedelta

    from django.utils import timezone

    name = f"exports/2026/11/receivables-x-{attempts}.csv"
    half = tmp_path / name
    half.parent.mkdir(parents=True)
    half.write_text("Customer,Bal")  # cut off mid-row
    job = ExportJob.objects.create(
        requested_by=head_office,
        report="receivables",
        format="csv",
        status=JobStatus.RUNNING,
        attempts=attempts,
        heartbeat_at=timezone.now() - timedelta(hours=1),
        file=name,
    )
    return job, half


@pytest.mark.django_db
def test_the_attempt_that_takes_over_removes_the_dead_ones_half_file(
    head_office, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    job, half = _dead_attempt(head_office, tmp_path, attempts=1)

    export_job_build(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.DONE, 2)
    assert not half.exists()
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.csv"))
    assert files == [job.file.name]
    assert job.file.name.endswith(f"receivables-{job.pk}-2.csv")


@pytest.mark.django_db
def test_a_job_given_up_on_keeps_no_half_file(head_office, tmp_path, settings):
    from reporting.services.exports import MAX_ATTEMPTS

    settings.MEDIA_ROOT = tmp_path
    job, half = _dead_attempt(head_office, tmp_path, attempts=MAX_ATTEMPTS)

    export_job_build(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error.startswith(f"Gave up after {MAX_ATTEMPTS} attempts")
    assert not job.file
    assert not half.exists()
