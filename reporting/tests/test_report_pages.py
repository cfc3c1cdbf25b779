"""The report pages over HTTP: filters in the URL, 400 naming the filter, downloads."""

import csv
import io
import json

import openpyxl
import pytest
from django.urls import reverse

from reporting.models import ExportJob, JobStatus

pytestmark = pytest.mark.django_db


def url(slug, **params):
    from urllib.parse import urlencode

    return reverse("reports:report", args=[slug]) + ("?" + urlencode(params) if params else "")


def test_page_shows_rows_totals_and_a_chart(client, head_office, history):
    client.force_login(head_office)
    page = client.get(url("sales-summary", group_by="depot"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "60,700.00" in body  # the amount total, grouped
    assert "<svg" in body
    assert page.context["rows"][0][1]["text"] in ("NORTH", "SOUTH")


@pytest.mark.parametrize("fmt", ["html", "json", "csv"])
def test_a_bad_filter_is_a_400_that_names_it(client, head_office, history, fmt):
    client.force_login(head_office)
    response = client.get(url("sales-register", date_from="25/11/2026", format=fmt))
    assert response.status_code == 400
    if fmt == "html":
        assert "Date from: Enter a date as YYYY-MM-DD" in response.content.decode()
    else:
        assert "YYYY-MM-DD" in response.json()["error"]["fields"]["date_from"][0]


def test_a_manager_asking_for_another_depot_gets_a_400(client, manager, history):
    client.force_login(manager)
    response = client.get(url("receivables", depot="SOUTH", format="json"))
    assert response.status_code == 400
    assert set(response.json()) == {"error"}  # one shape, as the API's
    assert response.json()["error"]["fields"] == {"depot": ["You do not work for depot SOUTH."]}


def test_sales_reps_cannot_open_reports(client, sales_rep, history):
    client.force_login(sales_rep)
    response = client.get(url("sales-register"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_csv_download(client, head_office, history):
    client.force_login(head_office)
    response = client.get(url("meter-sales", format="csv"))
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["Happened", "Sale", "Status"]  # the page's own headings
    assert [(r[5], r[9], r[11]) for r in rows[1:]] == [  # newest first
        ("C1", "60.00", "15000.00"),
        ("C1", "100.00", "25000.00"),
    ]


def test_xlsx_download(client, head_office, history):
    client.force_login(head_office)
    response = client.get(url("receivables", format="xlsx"))
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.active
    assert [c.value for c in sheet[1]][:2] == ["Customer", "Customer name"]
    assert sheet["A2"].value == "C1"
    assert sheet["I2"].value == 26000


def test_json_download(client, manager, history):
    client.force_login(manager)
    response = client.get(url("stock-position", format="json"))
    data = json.loads(b"".join(response.streaming_content))
    assert {row["depot"] for row in data} == {"NORTH"}
    assert data[0] == {
        "depot": "NORTH",
        "location": "depot NORTH",
        "product": "12.7KG",
        "full": 40,
        "empty": 3,
    }


def test_a_background_export_is_queued_built_and_private(
    client, head_office, manager, history, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        asked = client.get(url("sales-register", format="csv", **{"async": "1"}))
    # A link (GET) builds nothing: it asks, with a button that posts (CSRF-protected).
    assert asked.status_code == 200
    assert not ExportJob.objects.exists()
    assert "Build the CSV file" in asked.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("sales-register", format="csv", **{"async": "1"}))
    job = ExportJob.objects.get()
    assert response.url == reverse("admin:reporting_exportjob_change", args=[job.pk])
    job.refresh_from_db()
    assert (job.status, job.row_count, job.requested_by) == (JobStatus.DONE, 5, manager)
    download = client.get(reverse("reports:job-download", args=[job.pk]))
    content = b"".join(download.streaming_content).decode()
    assert content.count("\n") == 6  # the header and NORTH's five rows (one void)
    client.force_login(head_office)
    assert client.get(reverse("reports:job-download", args=[job.pk])).status_code == 200


def test_someone_elses_export_is_refused(
    client, manager, user_factory, north, history, django_capture_on_commit_callbacks
):
    from reporting.services import export_job_request

    with django_capture_on_commit_callbacks(execute=True):
        job = export_job_request(actor=manager, report="receivables", filters={}, format="csv")
    other = user_factory("MANAGER", depots=[north])
    client.force_login(other)
    assert client.get(reverse("reports:job-download", args=[job.pk])).status_code == 403
    jobs = client.get(reverse("admin:reporting_exportjob_changelist")).context["cl"].result_list
    assert list(jobs) == []


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"date_to": "9999-12-31"}, "date_to"),
        ({"date_from": "0001-01-01"}, "date_from"),
        ({"depot": "NO\x00RTH"}, "depot"),
        ({"customer": "C" * 500}, "customer"),
    ],
)
def test_hostile_filters_are_400s_not_500s(client, head_office, history, params, name):
    client.force_login(head_office)
    response = client.get(url("sales-register", format="json", **params))
    assert response.status_code == 400
    # A control character is refused by the admin site for every page, before the
    # report (its 400 page names the parameter); the rest by the report's filters.
    assert name in (
        response.content.decode()
        if response["Content-Type"].startswith("text/html")
        else response.json()["error"]["fields"]
    )


def test_an_absurd_page_number_is_not_a_500(client, head_office, history):
    client.force_login(head_office)
    response = client.get(url("sales-register", page="9" * 30))
    assert response.status_code == 200
    assert response.context["rows"] == []


def test_a_summary_is_added_up_once_for_its_page_totals_and_chart(client, head_office, history):
    """The sales summary's aggregate over every sale took seconds on a million sales, and
    the page ran it three times (rows, totals, chart): found by the load test."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(head_office)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url("sales-summary", group_by="depot"))
    assert page.status_code == 200
    sql = [q["sql"].upper() for q in queries.captured_queries]
    aggregates = [q for q in sql if "GROUP BY" in q and "SALES_TRANSACTION" in q]
    assert len(aggregates) == 1, [q[:80] for q in aggregates]
    body = page.content.decode()
    assert "60,700.00" in body
    assert "<svg" in body


def test_a_long_report_with_its_totals_in_sql_is_read_a_page_at_a_time(
    client, head_office, history
):
    from reporting import views

    client.force_login(head_office)
    first = client.get(url("sales-register"))
    second = client.get(url("sales-register", page=2))
    assert first.status_code == second.status_code == 200
    assert views.READ_ONCE > views.PAGE_SIZE
    assert first.context["rows"]
    assert not second.context["rows"]  # the history is one page
    assert not first.context["has_next"]
