"""Every report in the catalogue, in every format, through the field API.

`format` names the report's file format here (DRF's own `format` parameter must not take
it first), the filters are the admin pages', and every refusal has the API's one shape.
"""

import csv
import io
import json

import openpyxl
import pytest
from rest_framework.test import APIClient

from reporting.catalogue import all_reports

pytestmark = pytest.mark.django_db

SLUGS = sorted(report.slug for report in all_reports())
CONTENT_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def assert_error_shape(response, status, code, field=None):
    assert response.status_code == status, body(response)
    assert response["Content-Type"].startswith("application/json")
    data = json.loads(body(response))
    assert set(data) == {"error"}, data  # one shape: no "errors" beside it
    assert set(data["error"]) == {"status", "code", "message", "fields"}
    assert (data["error"]["status"], data["error"]["code"]) == (status, code)
    if field is not None:
        assert field in data["error"]["fields"], data
        assert data["error"]["fields"][field][0] in data["error"]["message"]
    return data["error"]


def test_the_catalogue_has_the_documented_reports():
    assert {"sales-register", "receivables", "stock-ledger", "stock-position"} <= set(SLUGS)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
@pytest.mark.parametrize("slug", SLUGS)
def test_every_report_in_every_format(head_office, history, slug, fmt):
    report = next(r for r in all_reports() if r.slug == slug)
    response = api(head_office).get(f"/api/reports/{slug}/", {"format": fmt})
    assert response.status_code == 200, body(response)[:500]
    assert response["Content-Type"].split(";")[0] == CONTENT_TYPES[fmt]
    content = body(response)
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(content.decode())))
        assert len(rows[0]) == len(report.columns)
        assert all(len(row) == len(report.columns) for row in rows[1:])
    elif fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(content)).active
        assert [c.value for c in sheet[1]] == [c.label for c in report.columns]
    else:
        rows = json.loads(content)
        assert isinstance(rows, list)
        assert all(list(row) == report.keys for row in rows)


def test_json_is_the_default_format(head_office, history):
    response = api(head_office).get("/api/reports/sales-register/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert len(json.loads(body(response))) == 6


def test_the_admin_pages_filters_apply(head_office, history):
    client = api(head_office)
    everything = json.loads(body(client.get("/api/reports/sales-register/?format=json")))
    north = json.loads(
        body(client.get("/api/reports/sales-register/", {"format": "json", "depot": "NORTH"}))
    )
    assert {row["depot"] for row in everything} == {"NORTH", "SOUTH"}
    assert north
    assert {row["depot"] for row in north} == {"NORTH"}
    csv_rows = list(
        csv.reader(
            io.StringIO(
                body(
                    client.get("/api/reports/sales-register/", {"format": "csv", "depot": "NORTH"})
                ).decode()
            )
        )
    )
    assert len(csv_rows) == len(north) + 1


def test_a_manager_sees_only_their_depots(manager, history):
    rows = json.loads(body(api(manager).get("/api/reports/stock-position/?format=json")))
    assert rows
    assert {row["depot"] for row in rows} == {"NORTH"}


@pytest.mark.parametrize("fmt", ["pdf", "html", "api", "CSV", ""])
def test_an_unknown_format_is_a_400_naming_format(head_office, history, fmt):
    response = api(head_office).get("/api/reports/sales-register/", {"format": fmt})
    error = assert_error_shape(response, 400, "invalid", field="format")
    assert "json, csv or xlsx" in error["message"]


def test_a_bad_filter_is_a_400_naming_it(head_office, history):
    response = api(head_office).get(
        "/api/reports/sales-register/", {"format": "csv", "date_from": "25/11/2026"}
    )
    error = assert_error_shape(response, 400, "invalid", field="date_from")
    assert "YYYY-MM-DD" in error["fields"]["date_from"][0]


def test_another_depot_is_a_400_for_a_manager(manager, history):
    response = api(manager).get("/api/reports/receivables/", {"format": "xlsx", "depot": "SOUTH"})
    error = assert_error_shape(response, 400, "invalid", field="depot")
    assert error["fields"] == {"depot": ["You do not work for depot SOUTH."]}


def test_an_unknown_report_is_a_404(head_office, history):
    assert_error_shape(
        api(head_office).get("/api/reports/no-such-report/?format=csv"), 404, "not_found"
    )


def test_sales_reps_are_refused_in_the_one_shape(sales_rep, history):
    assert_error_shape(
        api(sales_rep).get("/api/reports/sales-register/?format=csv"), 403, "permission_denied"
    )


def test_an_accept_header_does_not_turn_a_download_into_a_406(head_office, history):
    response = api(head_office).get(
        "/api/reports/sales-register/?format=csv", HTTP_ACCEPT="text/csv"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"


def test_an_xlsx_larger_than_a_download_may_hold_is_refused_naming_format(
    head_office, history, settings
):
    """An XLSX is built whole in the request: past EXPORT_SYNC_MAX_ROWS it would run into
    the web server's timeout, so the API refuses it and says what to do instead."""
    settings.EXPORT_SYNC_MAX_ROWS = 1
    client = api(head_office)
    refused = client.get("/api/reports/sales-register/", {"format": "xlsx"})
    error = assert_error_shape(refused, 400, "too_many_rows", "format")
    assert "CSV" in error["message"]
    streamed = client.get("/api/reports/sales-register/", {"format": "csv"})
    assert streamed.status_code == 200  # CSV streams in constant memory: no limit
    assert len(list(csv.reader(io.StringIO(body(streamed).decode())))) > 2
