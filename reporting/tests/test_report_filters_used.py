"""Each report takes only the filters it uses: any other filter given a value is a 400
that names it, on the admin's report pages (page and downloads) and through the API, so
a manager never reads an unfiltered report as a filtered one."""

import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from core.demo import days_ago
from reporting.catalogue import all_reports, get_report
from reporting.display import field_label
from reporting.filters import COMMON

pytestmark = pytest.mark.django_db

# What each report filters by: the catalogue must say exactly this (a new report is added
# here on purpose, with the filters its rows really follow).
USES = {
    "sales-register": set(COMMON),
    "sales-summary": set(COMMON),
    "meter-sales": set(COMMON),
    "audit-trail": {"date_from", "date_to", "depot", "sales_rep", "customer", "product"},
    "stock-position": {"date_to", "depot", "sales_rep", "product"},
    "stock-ledger": {"date_from", "date_to", "depot", "sales_rep", "product"},
    "vehicle-reconciliation": {"date_from", "date_to", "depot", "sales_rep", "product"},
    # The accounts as they stand now (customer_balance): no dates, no representative's
    # slice, no product or payment type.
    "receivables": {"depot", "customer"},
    # By month (date_from/date_to pick the documents by their own date) and depot.
    "tax-summary": {"date_from", "date_to", "depot"},
    # Cylinder custody: low stock and deposits as they stand now; the plant exchange by
    # period; cylinders held "not moved since" date_to.
    "low-stock": {"depot", "product"},
    "plant-exchange": {"date_from", "date_to", "depot", "product"},
    "cylinders-held": {"date_to", "depot", "customer", "product"},
    "deposits": {"depot", "customer", "product"},
    "write-offs": {"date_from", "date_to", "depot", "sales_rep", "product"},
    # Per representative and day of the cash-up's posting.
    "cash-ups": {"date_from", "date_to", "depot", "sales_rep"},
}
SLUGS = sorted(USES)
# A valid value for each filter, in the `history` fixture's world.
VALUES = {
    "date_from": days_ago(40, 12).date().isoformat(),
    "date_to": days_ago(1, 12).date().isoformat(),
    "depot": "NORTH",
    "sales_rep": "northrep",
    "customer": "C1",
    "product": "12.7KG",
    "payment_type": "CREDIT",
}
CASES = [(slug, name, name in USES[slug]) for slug in SLUGS for name in COMMON]
UNUSED = [(slug, name) for slug, name, used in CASES if not used]
USED = [(slug, name) for slug, name, used in CASES if used]


def page_url(slug, **params):
    from urllib.parse import urlencode

    return reverse("reports:report", args=[slug]) + ("?" + urlencode(params) if params else "")


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def content(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def refusal(response, name):
    """The one error shape, naming `name`; returns the message for it."""
    assert response.status_code == 400, content(response)[:300]
    data = json.loads(content(response))
    assert set(data) == {"error"}
    assert (data["error"]["status"], data["error"]["code"]) == (400, "invalid")
    assert list(data["error"]["fields"]) == [name], data
    message = data["error"]["fields"][name][0]
    assert message in data["error"]["message"]
    return message


def test_the_catalogue_says_what_each_report_filters_by():
    assert {r.slug for r in all_reports()} == set(USES)
    for report in all_reports():
        assert set(report.filters_used) == USES[report.slug], report.slug
        assert set(report.filters_used) <= set(COMMON)


@pytest.mark.parametrize(("slug", "name"), UNUSED)
def test_a_filter_the_report_does_not_use_is_a_400_naming_it(
    client, head_office, history, slug, name
):
    client.force_login(head_office)
    said = f"{slug} does not filter by {name}"
    for fmt in ("json", "csv", "xlsx"):
        response = client.get(page_url(slug, format=fmt, **{name: VALUES[name]}))
        assert said in refusal(response, name), fmt
    page = client.get(page_url(slug, **{name: VALUES[name]}))
    assert page.status_code == 400
    assert page.context["errors"] == {name: page.context["errors"][name]}
    assert said in page.context["errors"][name]
    # The page says it in one sentence, by the form's labels (the API names the parameter).
    html = page.content.decode()
    assert f"cannot be filtered by {field_label(name)}. It filters by" in html
    assert said not in html
    assert page.context["rows"] == []  # no unfiltered rows under a filtered-looking form
    for fmt in ("json", "csv", "xlsx"):
        response = api(head_office).get(
            f"/api/reports/{slug}/", {"format": fmt, name: VALUES[name]}
        )
        assert said in refusal(response, name), fmt


@pytest.mark.parametrize(("slug", "name"), USED)
def test_a_filter_the_report_uses_is_accepted(client, head_office, history, slug, name):
    client.force_login(head_office)
    assert client.get(page_url(slug, **{name: VALUES[name]})).status_code == 200
    response = client.get(page_url(slug, format="json", **{name: VALUES[name]}))
    assert response.status_code == 200, content(response)[:300]
    response = api(head_office).get(f"/api/reports/{slug}/", {"format": "csv", name: VALUES[name]})
    assert response.status_code == 200, content(response)[:300]


@pytest.mark.parametrize("slug", SLUGS)
def test_an_empty_filter_is_no_filter(client, head_office, history, slug):
    """The admin's GET form sends every field, empty ones too."""
    client.force_login(head_office)
    empty = dict.fromkeys(COMMON, "")
    assert client.get(page_url(slug, **empty)).status_code == 200
    response = api(head_office).get(f"/api/reports/{slug}/", empty)
    assert response.status_code == 200


def test_every_filter_that_does_not_apply_is_named_at_once(head_office, history):
    response = api(head_office).get(
        "/api/reports/stock-position/",
        {"customer": "C1", "payment_type": "CASH", "date_from": VALUES["date_from"]},
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"customer", "payment_type", "date_from"}
    assert fields["customer"] == [
        "stock-position does not filter by customer (its filters: date_to, depot, "
        "sales_rep, product)."
    ]


def test_an_unused_filter_is_named_before_its_value_is_looked_up(head_office, history):
    response = api(head_office).get("/api/reports/stock-ledger/", {"customer": "NOBODY"})
    assert "does not filter by customer" in refusal(response, "customer")


@pytest.mark.parametrize("slug", SLUGS)
def test_the_filter_form_shows_only_the_filters_the_report_uses(client, head_office, slug):
    client.force_login(head_office)
    form = client.get(page_url(slug)).context["form"]
    report = get_report(slug)
    assert set(form.fields) == USES[slug] | set(report.options)


# --- Parameters that are not filters ---------------------------------------------------


@pytest.mark.parametrize(("name", "value"), [("page", "2"), ("async", "1")])
@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
def test_the_api_refuses_page_and_async_which_it_does_not_do(
    head_office, history, name, value, fmt
):
    response = api(head_office).get("/api/reports/sales-register/", {"format": fmt, name: value})
    message = refusal(response, name)
    assert "API" in message


def test_the_admin_keeps_page_on_the_page_and_async_on_downloads(client, head_office, history):
    client.force_login(head_office)
    assert client.get(page_url("sales-register", page="2")).status_code == 200
    asked = client.get(page_url("stock-position", format="csv", **{"async": "1"}))
    assert asked.status_code == 200  # a link only asks: the button below queues the job
    assert asked.templates[0].name == "reporting/export_confirm.html"
    queued = client.post(page_url("stock-position", format="csv", **{"async": "1"}))
    assert queued.status_code == 302  # an export job
    assert client.get(page_url("sales-register", format="csv", **{"async": "0"})).status_code == 200
    # A download is the whole report; the page alone is paged.
    assert "page" in refusal(
        client.get(page_url("sales-register", format="json", page="2")), "page"
    )
    assert "background" in refusal(
        client.get(page_url("sales-register", format="json", **{"async": "1"})), "async"
    )
    page = client.get(page_url("sales-register", **{"async": "1"}))
    assert page.status_code == 400
    assert "async" in page.context["errors"]
    assert "background" in refusal(
        client.get(page_url("sales-register", format="csv", **{"async": "yes"})), "async"
    )


@pytest.mark.parametrize("name", ["o", "group_by"])
def test_other_parameters_stay_unknown(client, head_office, history, name):
    client.force_login(head_office)
    response = client.get(page_url("stock-position", format="json", **{name: "depot"}))
    assert refusal(response, name) == "Unknown filter."


# --- Schedules: the same rule for the filters a schedule keeps -------------------------


def test_a_schedule_with_a_filter_its_report_does_not_use_is_refused(manager, history):
    from django.core.exceptions import ValidationError

    from reporting.models import ReportSchedule
    from reporting.services import schedule_save

    schedule = ReportSchedule(
        name="x",
        owner=manager,
        report="stock-position",
        filters={"customer": "C1"},
        recipients="a@example.lk",
    )
    with pytest.raises(ValidationError) as exc:
        schedule_save(schedule=schedule)
    assert "stock-position does not filter by customer" in exc.value.message_dict["customer"][0]


def test_a_scheduled_position_takes_its_period_as_the_day_it_stands_at(manager, history):
    """A position is as at the end of the period: the period's date_to is taken, its
    date_from (which a position does not use) is not refused."""
    from reporting.models import ExportJob, ReportSchedule
    from reporting.services import schedule_run, schedule_save

    schedule = ReportSchedule(
        name="Month-end stock",
        owner=manager,
        report="stock-position",
        period="last_month",
        recipients="a@example.lk",
    )
    schedule_save(schedule=schedule)
    job = schedule_run(schedule_id=schedule.pk, run_key="k1")
    assert job.status == "DONE", job.error
    assert set(ExportJob.objects.get(pk=job.pk).filters) == {"date_to"}


def test_a_period_on_a_report_without_dates_is_refused(manager, history):
    from django.core.exceptions import ValidationError

    from reporting.models import ReportSchedule
    from reporting.services import schedule_save

    schedule = ReportSchedule(
        name="x", owner=manager, report="receivables", period="yesterday", recipients="a@x.lk"
    )
    with pytest.raises(ValidationError) as exc:
        schedule_save(schedule=schedule)
    assert "receivables" in exc.value.message_dict["period"][0]


# --- The schema says it -----------------------------------------------------------------


def test_the_schema_says_which_reports_each_filter_applies_to(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    (operation,) = schema["paths"]["/api/reports/{slug}/"].values()
    parameters = {p["name"]: p for p in operation["parameters"]}
    for name in COMMON:
        users = [slug for slug in SLUGS if name in USES[slug]]
        description = parameters[name]["description"]
        assert f"Used by {', '.join(users)}." in description, name
    assert "400" in operation["description"]
    assert sorted(parameters["slug"]["schema"]["enum"]) == SLUGS
