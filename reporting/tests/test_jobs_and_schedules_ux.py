"""Export jobs and schedules as a clerk sees them: a job's page that never contradicts
itself, filters in words, background exports in every format, schedules picked (not
typed as cron and JSON), Run now, and the next five run times."""

from datetime import datetime, time
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from reporting.models import ExportJob, JobStatus, ReportSchedule
from reporting.schedule_times import cron_fields, next_runs, pickers, timetable_in_words
from reporting.services import schedule_save

pytestmark = pytest.mark.django_db


def job_page(client, job):
    return client.get(reverse("admin:reporting_exportjob_change", args=[job.pk]))


def make_job(user, **fields):
    values = {"report": "sales-summary", "format": "csv", "filters": {}, **fields}
    return ExportJob.objects.create(requested_by=user, **values)


def test_a_job_page_says_one_thing_at_a_time(client, manager, history):
    client.force_login(manager)
    queued = job_page(client, make_job(manager))
    assert queued.context["job_state"]["key"] == "queued"
    html = queued.content.decode()
    assert "Waiting for a worker to start building it." in html
    assert "Download" not in html
    assert 'http-equiv="refresh"' in html

    running = make_job(manager, status=JobStatus.RUNNING, progress=1234)
    html = job_page(client, running).content.decode()
    assert "Being built: 1,234 rows written so far." in html

    failed = make_job(
        manager, status=JobStatus.FAILED, error="Building the file stopped: disk full"
    )
    html = job_page(client, failed).content.decode()
    assert "The export failed; no file was made." in html
    assert "Building the file stopped: disk full" in html
    assert "Being built" not in html
    assert 'http-equiv="refresh"' not in html


def test_a_finished_job_offers_its_file_and_nothing_else(
    client, manager, history, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    params = {"format": "xlsx", "async": "1", "group_by": "sales_rep", "depot": "NORTH"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{reverse('reports:report', args=['sales-summary'])}?{urlencode(params)}"
        )
    job = ExportJob.objects.get()
    assert (job.format, job.status) == ("xlsx", JobStatus.DONE)  # Excel in the background
    page = client.get(response.url)
    html = page.content.decode()
    assert page.context["job_state"]["key"] == "done"
    assert "Ready: " in html
    assert reverse("reports:job-download", args=[job.pk]) in html
    assert "being built" not in html.lower()
    assert 'http-equiv="refresh"' not in html
    # The filters in words, not JSON.
    assert "Depot NORTH · Group by representative · Per month" in html
    assert "{&quot;" not in html


def test_the_report_page_offers_every_format_in_the_background(client, head_office, history):
    client.force_login(head_office)
    html = client.get(reverse("reports:report", args=["receivables"])).content.decode()
    # Buttons of a POST form (with its CSRF token), not links: following a link builds nothing.
    assert 'formaction="?format=csv&amp;async=1">CSV in the background</button>' in html
    assert 'formaction="?format=xlsx&amp;async=1">Excel in the background</button>' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_the_timetable_is_picked_and_spelt_out():
    weekly = cron_fields("weekly", 0, 1, time(6, 30))
    assert weekly == {"minute": "30", "hour": "6", "day_of_week": "1", "day_of_month": "*"}
    assert timetable_in_words(**weekly) == "Every Monday at 06:30"
    monthly = cron_fields("monthly", 0, 15, time(7, 0))
    assert timetable_in_words(**monthly) == "Every month on day 15 at 07:00"
    assert timetable_in_words(**cron_fields("daily", 3, 3, time(23, 5))) == "Every day at 23:05"
    assert pickers(**cron_fields("weekly", 6, 1, time(8, 0)))["weekday"] == 6  # Sunday
    assert pickers("*/5", "*", "*", "*") is None


def test_the_next_five_runs():
    after = timezone.make_aware(datetime(2026, 12, 1, 7, 0))  # noqa: DTZ001 - a Tuesday, local
    weekly = next_runs(**cron_fields("weekly", 0, 1, time(6, 0)), after=after)
    assert [timezone.localtime(t).strftime("%a %d %b %H:%M") for t in weekly] == [
        "Mon 07 Dec 06:00",
        "Mon 14 Dec 06:00",
        "Mon 21 Dec 06:00",
        "Mon 28 Dec 06:00",
        "Mon 04 Jan 06:00",
    ]
    daily = next_runs(**cron_fields("daily", 0, 1, time(6, 0)), after=after)
    assert timezone.localtime(daily[0]).day == 2  # today's 06:00 has gone
    monthly = next_runs(**cron_fields("monthly", 0, 1, time(6, 0)), after=after)
    assert [timezone.localtime(t).month for t in monthly] == [1, 2, 3, 4, 5]


def schedule(owner, **fields):
    values = {
        "name": "Monday receivables",
        "owner": owner,
        "report": "receivables",
        "recipients": "boss@example.lk",
        "format": "xlsx",
        "filters": {"depot": "NORTH"},
        **cron_fields("weekly", 0, 1, time(6, 0)),
        **fields,
    }
    return schedule_save(schedule=ReportSchedule(**values))


def test_the_schedule_page_shows_its_timetable_and_next_five_runs(client, manager, history):
    client.force_login(manager)
    mine = schedule(manager)
    page = client.get(reverse("admin:reporting_reportschedule_change", args=[mine.pk]))
    html = page.content.decode()
    assert "Every Monday at 06:00" in html
    assert len(page.context["next_runs"]) == 5
    assert html.count("<li>", html.index('id="next-runs"')) >= 5
    assert "Covers: Depot NORTH" in html
    form = page.context["adminform"].form
    # Pickers and the report's own filters, no cron or JSON field.
    assert {"frequency", "weekday", "month_day", "at", "filter_depot", "filter_customer"} <= set(
        form.fields
    )
    assert not {"minute", "hour", "day_of_week", "day_of_month", "filters"} & set(form.fields)
    assert form.initial["frequency"] == "weekly"
    assert form.initial["filter_depot"] == "NORTH"
    # Choosing another report shows its filters instead.
    other = client.get(
        reverse("admin:reporting_reportschedule_change", args=[mine.pk]), {"report": "cash-ups"}
    )
    assert "filter_sales_rep" in other.context["adminform"].form.fields
    assert "filter_customer" not in other.context["adminform"].form.fields


def test_run_now_builds_and_emails_at_once(
    client, manager, history, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    mine = schedule(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:reporting_reportschedule_run", args=[mine.pk]))
    job = ExportJob.objects.get()
    assert response.url == reverse("admin:reporting_exportjob_change", args=[job.pk])
    job.refresh_from_db()
    assert (job.schedule, job.status, job.format) == (mine, JobStatus.DONE, "xlsx")
    assert job.filters == {"depot": "NORTH"}
    assert [m.to for m in mail.outbox] == [["boss@example.lk"]]
    # The changelist's action too.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:reporting_reportschedule_changelist"),
            {"action": "run_now", "_selected_action": [mine.pk]},
        )
    assert ExportJob.objects.filter(schedule=mine).count() == 2
    assert len(mail.outbox) == 2


def test_run_now_is_a_post_and_only_for_schedules_one_may_see(
    client, manager, head_office, user_factory, north, history
):
    theirs = schedule(head_office, filters={})
    client.force_login(manager)
    assert (
        client.get(reverse("admin:reporting_reportschedule_run", args=[theirs.pk])).status_code
        == 404
    )
    client.force_login(head_office)
    refused = client.get(reverse("admin:reporting_reportschedule_run", args=[theirs.pk]))
    assert refused.status_code == 302
    assert not ExportJob.objects.exists()


def test_the_schedules_list_reads_in_words(client, manager, history):
    schedule(manager, report="cash-ups", period="last_week")
    undated = r"Receivables \(receivables\) is not filtered by dates"
    with pytest.raises(ValidationError, match=undated):
        schedule(manager, name="Dated receivables", period="last_week")
    client.force_login(manager)
    html = client.get(reverse("admin:reporting_reportschedule_changelist")).content.decode()
    assert "Every Monday at 06:00" in html
    assert "Last week (Monday to Sunday) · Depot NORTH" in html
    assert "Not yet" in html  # never run
    assert "{&quot;" not in html


def test_run_now_refuses_in_words_when_the_saved_filters_no_longer_fit(
    client, manager, head_office, south, history
):
    """Found by review: a manager moved to another depot left a schedule filtered by their
    old one; Run now answered 500 (an uncaught refusal). Now a message, and no job."""
    mine = schedule(manager)  # filtered by depot NORTH
    manager.depots.set([south])
    client.force_login(head_office)
    response = client.post(
        reverse("admin:reporting_reportschedule_run", args=[mine.pk]), follow=True
    )
    assert response.status_code == 200
    said = [str(m) for m in response.context["messages"]]
    assert any("cannot run with its saved filters" in m and "NORTH" in m for m in said), said
    assert not ExportJob.objects.exists()
    # The list's action says the same, and runs nothing.
    response = client.post(
        reverse("admin:reporting_reportschedule_changelist"),
        {"action": "run_now", "_selected_action": [mine.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert any("NORTH" in str(m) for m in response.context["messages"])
    assert not ExportJob.objects.exists()


def test_run_now_twice_runs_once_and_an_inactive_owner_is_refused(
    client, manager, head_office, history
):
    from reporting.services import schedule_run_now

    mine = schedule(manager)
    first = schedule_run_now(schedule=mine)  # queued (its worker has not started)
    with pytest.raises(ValidationError, match=f"already running \\(export #{first.pk}"):
        schedule_run_now(schedule=mine)
    assert ExportJob.objects.filter(schedule=mine).count() == 1
    client.force_login(head_office)
    response = client.post(
        reverse("admin:reporting_reportschedule_run", args=[mine.pk]), follow=True
    )
    assert any("already running" in str(m) for m in response.context["messages"])
    assert ExportJob.objects.filter(schedule=mine).count() == 1

    ExportJob.objects.filter(pk=first.pk).update(status=JobStatus.DONE)
    manager.is_active = False
    manager.save(update_fields=["is_active"])
    with pytest.raises(ValidationError, match="can no longer sign in"):
        schedule_run_now(schedule=mine)
