"""The report pages as a clerk uses them: rows open their documents, totals, newest
first, refused filters in a sentence, previous and next, the side bar, and files whose
headings are the page's words and whose dates are dates."""

import csv
import io
from datetime import date, datetime
from urllib.parse import urlencode

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reporting import views
from reporting.catalogue import all_reports, get_report
from reporting.templatetags.reporting_nav import reports_for
from sales.day_models import CashUp
from sales.models import Customer, Transaction

pytestmark = pytest.mark.django_db


def url(slug, **params):
    return reverse("reports:report", args=[slug]) + ("?" + urlencode(params) if params else "")


def body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def shown_day(text: str) -> date:
    return datetime.strptime(text, "%d %b %Y").date()  # noqa: DTZ007 - a day, no time


def links_of(page, column):
    return [cell[column]["links"] for cell in page.context["rows"]]


def test_each_register_row_opens_its_sale_and_its_customer(client, head_office, history):
    client.force_login(head_office)
    page = client.get(url("meter-sales"))
    html = page.content.decode()
    for sale in Transaction.objects.filter(meter_sale__isnull=False):
        change = reverse("admin:sales_transaction_change", args=[sale.pk])
        assert f'<a href="{change}">{sale.number}</a>' in html
    c1 = Customer.objects.get(code="C1")
    assert f'<a href="{reverse("admin:sales_customer_change", args=[c1.pk])}">C1</a>' in html


def test_a_summary_row_drills_down_to_the_register_filtered(client, head_office, history):
    client.force_login(head_office)
    page = client.get(url("sales-summary", group_by="depot", period="day"))
    first = page.context["rows"][0]
    ((label, target),) = first[0]["links"]
    assert label == first[0]["text"]
    day = page.context["rows"][0][0]["text"]
    assert target.startswith(reverse("reports:report", args=["sales-register"]))
    drilled = client.get(target)
    assert drilled.status_code == 200
    assert drilled.context["rows"], target  # the period's sales of that depot
    assert {r[3]["text"] for r in drilled.context["rows"]} == {first[1]["text"]}
    shown = {r[0]["text"] for r in drilled.context["rows"]}
    assert shown == {f"{date.fromisoformat(day):%-d %b %Y}"}


def test_cash_ups_and_the_ledger_open_their_documents(client, head_office, history):
    client.force_login(head_office)
    ledger = client.get(url("stock-ledger", depot="NORTH"))
    targets = [t for links in links_of(ledger, 5) for _, t in links]
    assert any("/admin/sales/transaction/" in t for t in targets)
    assert any("/admin/stock/distribution/" in t for t in targets)
    assert "Opening balance" in ledger.content.decode()  # movement kinds by their labels
    assert not CashUp.objects.exists() or links_of(client.get(url("cash-ups")), 3)


@pytest.mark.parametrize(
    ("slug", "expected"),
    [("sales-register", "LKR 60,700.00"), ("receivables", "LKR 37,600.00")],
)
def test_totals_carry_the_currency_and_separators(
    client, head_office, history, settings, slug, expected
):
    settings.CURRENCY = "LKR"
    client.force_login(head_office)
    page = client.get(url(slug))
    assert expected in page.context["totals"]
    assert expected in page.content.decode()


def test_rows_in_time_are_newest_first(client, head_office, history):
    client.force_login(head_office)
    for slug in ("sales-register", "meter-sales", "audit-trail", "write-offs", "tax-summary"):
        assert get_report(slug).in_time, slug
    register = client.get(url("sales-register")).context["rows"]
    days = [shown_day(r[0]["text"]) for r in register]
    assert days == sorted(days, reverse=True)
    assert len(set(days)) > 1


def test_a_filter_that_does_not_apply_is_refused_in_a_sentence(client, head_office, history):
    client.force_login(head_office)
    page = client.get(url("receivables", sales_rep="northrep", product="12.7KG"))
    assert page.status_code == 400
    html = page.content.decode()
    assert (
        "Receivables cannot be filtered by Representative, Product. It filters by Depot, "
        "Customer only: clear the other filters."
    ) in html
    assert page.context["rows"] == []
    assert 'id="report-table"' not in html


def test_paging_has_previous_and_next(client, head_office, history, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    client.force_login(head_office)
    first = client.get(url("sales-register"))
    html = first.content.decode()
    assert 'rel="next"' in html
    assert '<span class="disabled">&lsaquo; Previous</span>' in html
    second = client.get(url("sales-register", page=2)).content.decode()
    assert 'rel="prev"' in second
    assert "page=1" in second
    last = client.get(url("sales-register", page=3)).content.decode()
    assert '<span class="disabled">Next &rsaquo;</span>' in last


def test_a_report_page_reads_the_same_number_of_queries_whatever_its_rows(
    client, head_office, history, customer_factory, sales_rep, loaded_vehicle
):
    from sales.services import sale_post

    client.force_login(head_office)
    client.get(url("sales-register"))  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as before:
        client.get(url("sales-register"))
    for _ in range(3):
        sale_post(
            customer=customer_factory(),
            sales_rep=sales_rep,
            actor=sales_rep,
            lines=[{"product": loaded_vehicle_product(), "quantity": 1}],
        )
    with CaptureQueriesContext(connection) as after:
        client.get(url("sales-register"))
    assert len(after.captured_queries) == len(before.captured_queries)


def loaded_vehicle_product():
    from stock.models import Product

    return Product.objects.get(code="12.7KG")


def test_the_side_bar_links_to_the_reports(client, head_office, manager, sales_rep, history):
    client.force_login(manager)
    # Every admin page but the home page (which lists the reports itself) has the side bar.
    html = client.get(reverse("admin:reporting_exportjob_changelist")).content.decode()
    assert 'id="nav-reports"' in html
    assert f'href="{reverse("reports:index")}"' in html
    assert f'href="{url("sales-register")}"' in html
    page = client.get(url("receivables")).content.decode()
    assert 'aria-current="page">Receivables</a>' in page
    # A representative, whose report pages are refused, is shown none.
    assert reports_for(sales_rep) == []
    assert len(reports_for(manager)) == len(all_reports())


def test_csv_and_xlsx_headings_are_the_same_words(client, head_office, history):
    client.force_login(head_office)
    report = get_report("sales-register")
    labels = [c.label for c in report.columns]
    csv_rows = list(
        csv.reader(io.StringIO(body(client.get(url(report.slug, format="csv"))).decode()))
    )
    book = openpyxl.load_workbook(io.BytesIO(body(client.get(url(report.slug, format="xlsx")))))
    assert csv_rows[0] == labels
    assert [c.value for c in book.active[1]] == labels


def test_xlsx_dates_are_dates_and_money_and_rates_are_numbers(client, head_office, history):
    client.force_login(head_office)
    book = openpyxl.load_workbook(io.BytesIO(body(client.get(url("meter-sales", format="xlsx")))))
    sheet = book.active
    heading = [c.value for c in sheet[1]]
    row = dict(zip(heading, sheet[2], strict=True))
    assert row["Happened"].is_date
    assert isinstance(row["Happened"].value, datetime)
    assert row["Happened"].number_format == "yyyy-mm-dd"
    assert row["Posted"].is_date
    assert row["Rate"].data_type == "n"
    assert row["Rate"].value == 250
    assert row["Amount"].data_type == "n"
    assert row["Amount"].number_format == "#,##0.00"
    totals = book["Totals"]
    assert [(r[0].value, r[1].value) for r in totals.iter_rows(min_row=2)] == [
        ("Quantity", 160),
        ("Amount", 40000),
    ]


def test_the_page_shows_dates_as_dates_and_codes_as_labels(client, head_office, history):
    client.force_login(head_office)
    page = client.get(url("sales-register"))
    first = page.context["rows"][0]
    assert first[2]["text"] in ("Posted", "Void")
    # The page's dates read "12 Nov 2026", not ISO.
    assert shown_day(first[0]["text"]) < date(2100, 1, 1)


def test_the_summary_chart_has_a_stacked_series_per_group(
    client, head_office, history, monkeypatch
):
    client.force_login(head_office)
    svg = str(client.get(url("sales-summary", group_by="sales_rep")).context["chart"])
    assert "northrep" in svg
    assert "southrep" in svg
    drawn = {}

    def spy(labels, series, **options):
        drawn.update(labels=labels, series=series, **options)
        return ""

    monkeypatch.setattr(views, "bar_chart", spy)
    client.get(url("sales-summary", group_by="depot"))
    assert set(drawn["series"]) == {"NORTH", "SOUTH"}
    assert drawn["stacked"] is True
    assert drawn["labels"] == sorted(drawn["labels"])  # oldest period on the left
    assert sum(sum(v) for v in drawn["series"].values()) == 60700


@pytest.mark.parametrize("slug", sorted(r.slug for r in all_reports()))
def test_every_row_of_every_report_opens_something(client, head_office, history, slug):
    client.force_login(head_office)
    page = client.get(url(slug))
    assert page.status_code == 200
    for row in page.context["rows"]:
        targets = [target for cell in row for _, target in cell["links"]]
        assert targets, (slug, [c["text"] for c in row])
        for target in targets[:2]:
            assert client.get(target).status_code == 200, target
