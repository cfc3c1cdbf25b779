"""The statement runs' screens: head office starts a run through a previewed form (a bad
month is a field error and writes nothing), the list shows progress in words, the run's
page refreshes itself while it runs and links to its statements."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import StatementRun, StatementRunStatus
from billing.services.statement_run import previous_month

pytestmark = pytest.mark.django_db

pytest_plugins = ["billing.tests.statement_run_fixtures"]

ADD = "admin:billing_statementrun_add"


@pytest.fixture
def office(client, head_office):
    client.force_login(head_office)
    client.defaults["HTTP_HOST"] = "127.0.0.1"
    return client


def test_head_office_previews_then_starts_a_run(office, book, head_office, no_worker):
    month = previous_month()
    page = office.get(reverse(ADD))
    assert page.status_code == 200
    assert f'value="{month:%Y-%m}"' in page.content.decode()  # last month, offered

    preview = office.post(reverse(ADD), {"month": f"{month:%Y-%m}", "_preview": "1"})
    text = preview.content.decode()
    assert preview.status_code == 200
    assert f"Statements of {month:%B %Y}: 01 {month:%b %Y}" in text
    assert "4 credit customers get a statement; 2 of them take their documents by e-mail" in text
    assert StatementRun.objects.count() == 0  # the preview wrote nothing

    token = preview.context["token"]
    done = office.post(
        reverse(ADD), {"month": f"{month:%Y-%m}", "_confirm": "1", "_token": token}, follow=True
    )
    run = StatementRun.objects.get()
    assert (run.month, run.status, run.requested_by) == (
        month,
        StatementRunStatus.QUEUED,
        head_office,
    )
    assert done.redirect_chain[-1][0] == reverse("admin:billing_statementrun_change", args=[run.pk])
    assert f"The statement run of {month:%B %Y} is started" in done.content.decode()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("this month", "has not ended yet"),
        ("2026-13", "Give a month as 2026-10 (year and month)."),
        ("", "This field is required."),
    ],
)
def test_a_bad_month_is_a_field_error_and_nothing_is_written(office, no_worker, typed, message):
    if typed == "this month":
        typed = f"{timezone.localdate():%Y-%m}"
    page = office.post(reverse(ADD), {"month": typed, "_preview": "1"})
    assert page.status_code == 200
    assert message in str(page.context["form"].errors["month"])
    assert StatementRun.objects.count() == 0


def test_a_manager_may_not_start_a_run(client, manager):
    client.force_login(manager)
    page = client.get(reverse(ADD), HTTP_HOST="127.0.0.1")
    assert page.status_code == 403


def test_the_list_shows_progress_in_words(office, head_office):
    StatementRun.objects.create(
        month=previous_month(),
        status=StatementRunStatus.RUNNING,
        customers_total=4000,
        customers_done=1234,
        emailed=1100,
        requested_by=head_office,
        started_at=timezone.now(),
    )
    StatementRun.objects.create(month=previous_month(previous_month()))  # the schedule's
    text = office.get(reverse("admin:billing_statementrun_changelist")).content.decode()
    assert f"{previous_month():%B %Y}" in text
    assert "1,234 of 4,000 (30 %)" in text
    assert "1,100" in text
    assert "the monthly schedule" in text
    assert "Start a statement run" in text


def test_a_running_runs_page_refreshes_itself_and_links_to_its_statements(office):
    run = StatementRun.objects.create(
        month=previous_month(), status=StatementRunStatus.RUNNING, customers_total=10
    )
    url = reverse("admin:billing_statementrun_change", args=[run.pk])
    text = office.get(url).content.decode()
    assert '<meta http-equiv="refresh" content="5">' in text
    statements = reverse("admin:billing_customerstatement_changelist")
    assert f'href="{statements}?run__id__exact={run.pk}"' in text
    assert "0 of 10 (0 %)" in text

    StatementRun.objects.filter(pk=run.pk).update(
        status=StatementRunStatus.DONE,
        customers_done=10,
        finished_at=timezone.now() - timedelta(minutes=1),
    )
    text = office.get(url).content.decode()
    assert "http-equiv" not in text
    assert "10 of 10 (100 %)" in text
