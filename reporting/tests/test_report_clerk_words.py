"""Issue 18: no internal codes on a page a clerk reads. The audit trail report in the audit
log page's words (its files too), filter refusals by the form's labels, descriptions
without parameter names, and the home page's remaining app panels in words."""

import csv
import io
import re

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditLog
from reporting.catalogue import all_reports
from sales.models import Transaction

pytestmark = pytest.mark.django_db


def url(slug, **params):
    return reverse("reports:report", args=[slug]), params


def get(client, slug, **params):
    path, query = url(slug, **params)
    return client.get(path, query)


def _sale_row(page):
    """The audit trail's row of the C1 sale posted forty days ago, as the page shows it."""
    labels = [c.label for c in page.context["report"].columns]
    for row in page.context["rows"]:
        cells = dict(zip(labels, row, strict=True))
        if cells["Action"]["text"] == "Sale posted" and "Number: TX-" in cells["Details"]["text"]:
            return cells
    raise AssertionError("no sale in the audit trail")


def test_the_audit_trail_reads_in_words_and_links_the_object(client, head_office, history):
    client.force_login(head_office)
    page = get(client, "audit-trail", customer="C1")
    assert page.status_code == 200
    labels = [c.label for c in page.context["report"].columns]
    assert "Object type" not in labels
    cells = _sale_row(page)
    sale = Transaction.objects.get(number=cells["Object"]["text"].removeprefix("Sale "))
    assert cells["Object"]["links"] == [
        (f"Sale {sale.number}", reverse("admin:sales_transaction_change", args=[sale.pk]))
    ]
    details = cells["Details"]["text"]
    assert f"Number: {sale.number}" in details
    assert re.search(r"Total: \d{1,3}(,\d{3})+\.\d\d", details)  # money grouped
    assert "idempotency" not in details.lower()
    assert "_" not in details  # no keys, no codes
    assert ": -" not in details
    assert ": ;" not in details
    assert re.search(r"Happened: \d{1,2} \w{3} \d{4} \d\d:\d\d", details)  # a moment
    html = page.content.decode()
    for code in ("sale_post", "sales.transaction", "payment_record", "rate_set"):
        assert code not in html


def test_the_audit_trail_files_hold_the_same_words(client, head_office, history):
    client.force_login(head_office)
    response = get(client, "audit-trail", customer="C1", format="csv")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Entry", "Time", "Actor", "Action", "Object", "Depot", "Details"]
    actions = {r[3] for r in rows[1:]}
    assert actions == {"Sale posted", "Payment recorded", "Rate set"}
    grouped = re.compile(r"Total: \d{1,3}(,\d{3})+\.\d\d")
    assert any(r[4].startswith("Sale TX-") and grouped.search(r[6]) for r in rows[1:])
    assert "sale_post" not in text
    assert "sales.transaction" not in text

    response = get(client, "audit-trail", customer="C1", format="xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert {r[3] for r in values} == actions
    assert any(str(r[4]).startswith("Sale TX-") for r in values)


def test_the_audit_trail_reads_the_same_number_of_queries_whatever_its_rows(
    client, head_office, history, customer_factory
):
    client.force_login(head_office)
    get(client, "audit-trail")  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as before:
        get(client, "audit-trail")
    for _ in range(3):
        customer_factory(rates={"12.7KG": "3000.00"})
    assert AuditLog.objects.count() > 3
    with CaptureQueriesContext(connection) as after:
        get(client, "audit-trail")
    assert len(after.captured_queries) == len(before.captured_queries)


@pytest.mark.parametrize(
    ("slug", "params", "said", "not_said"),
    [
        (
            "sales-register",
            {"date_from": "2026-12-05", "date_to": "2026-11-01"},
            "&#x27;Date to&#x27; is before &#x27;Date from&#x27;.",
            "date_to",
        ),
        ("sales-register", {"payment_type": "FOO"}, "Use Cash or Credit", "CASH or CREDIT"),
        (
            "sales-summary",
            {"group_by": "bogus"},
            "Use one of Depot, Representative, Product",
            "sales_rep",
        ),
        (
            "deposits",
            {"date_from": "2026-11-01"},
            "Deposits held cannot be filtered by Date from. It filters by Depot, Customer, "
            "Product only: clear the other filters.",
            "date_from",
        ),
    ],
)
def test_a_refusal_names_filters_by_their_labels(
    client, head_office, history, slug, params, said, not_said
):
    client.force_login(head_office)
    page = get(client, slug, **params)
    assert page.status_code == 400
    refusal = page.content.decode().split('id="report-refusal"')[1].split("</div>")[0]
    assert said in refusal
    assert not_said not in refusal
    assert refusal.count("<li>") <= 1  # said once, not twice


def test_the_api_keeps_naming_the_parameter(head_office, history):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(head_office)
    response = api.get("/api/reports/deposits/", {"date_from": "2026-11-01"})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["date_from"]


def test_no_description_names_a_parameter(client, head_office):
    for report in all_reports():
        assert not re.search(r"\b[a-z]+_[a-z_]+\b", report.description), report.slug
    client.force_login(head_office)
    html = client.get(reverse("reports:index")).content.decode()
    assert "date_to" not in html
    assert "only those not moved since" in html


def test_the_home_page_panels_left_read_in_words(client, head_office, history):
    client.force_login(head_office)
    response = client.get(reverse("admin:index"))
    panels = {p["title"]: p for p in response.context["dashboard_panels"]}
    for gone in ("Cylinders by depot", "Below the reorder level"):
        assert gone not in panels
    assert not any(title.startswith("Sales today") for title in panels)
    products = panels["Products on sale"]
    assert products["headers"][0] == "Product"
    names = [row[0] for row in products["rows"]]
    assert "12.7KG" not in names
    assert names == sorted(names)
    html = response.content.decode()
    assert "of date_to" not in html
    assert "date_to:" not in html
