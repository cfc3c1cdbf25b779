"""The cash-ups report: per representative and day, expected, counted, variance, who
confirmed; repeated shortfalls flagged; its filters, a manager's depots, the formats.

The world (D12 = 12 days ago): northrep sells 3000.00 cash each of D12, D5, D5 and D1 and
cashes up D12 (counts 2900.00, short 100.00, confirmed by northmanager with a note), D5
twice (the first expects 6000.00 and counts 3000.00, the second expects nothing and
counts 3000.00: the day nets to nothing, not a short day), D1 (counts 2990.00, short
10.00). southrep cashes up D5 (nothing expected, counts 0.00)."""

import csv
import io
import json
from decimal import Decimal

import openpyxl
import pytest
from rest_framework.test import APIClient

from core.demo import days_ago
from reporting.catalogue import get_report
from sales.services import cashup_confirm, cashup_post, rate_set, sale_post
from stock.services import distribution_create, stock_receive

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def world(north, south, head_office, manager, sales_rep, user_factory, products, customer_factory):
    cyl = products["12.7KG"]
    south_rep = user_factory("SALES", depots=[south], username="southrep")
    customer = customer_factory("CASH", rates={"9KG": "2200.00"})
    rate_set(customer=customer, product=cyl, rate="3000", actor=head_office,
             effective_from=days_ago(20, 8))  # fmt: skip
    stock_receive(depot=north, product=cyl, quantity=50, actor=head_office, at=days_ago(20, 8))
    distribution_create(sales_rep=sales_rep, depot=north, product=cyl, quantity=10,
                        kind="COLLECTION", actor=head_office, at=days_ago(20, 9))  # fmt: skip

    def sell(at):
        sale_post(customer=customer, sales_rep=sales_rep, actor=sales_rep, at=at,
                  lines=[{"product": cyl, "quantity": 1}])  # fmt: skip

    def cash_up(rep, counted, at):
        return cashup_post(sales_rep=rep, counted_cash=counted, actor=rep, at=at)

    sell(days_ago(12, 10))
    first = cash_up(sales_rep, "2900", days_ago(12, 18))
    cashup_confirm(cashup=first, actor=manager, note="100 paid in", at=days_ago(11, 9))
    sell(days_ago(5, 9))
    sell(days_ago(5, 10))
    cash_up(sales_rep, "3000", days_ago(5, 12))
    cash_up(sales_rep, "3000", days_ago(5, 18))
    sell(days_ago(1, 10))
    cash_up(sales_rep, "2990", days_ago(1, 18))
    cash_up(south_rep, "0", days_ago(5, 17))
    return {"south_rep": south_rep}


def run(slug, user, **params):
    report = get_report(slug)
    filters = report.filters_from({k: str(v) for k, v in params.items()}, user)
    rows = [dict(zip(report.keys, row, strict=True)) for row in report.rows(filters)]
    return rows, report.totals(filters)


def test_rows_per_representative_and_day(world, head_office):
    rows, totals = run("cash-ups", head_office)
    assert [(r["date"], r["sales_rep"]) for r in rows] == [  # newest day first
        (days_ago(1, 0).date(), "northrep"),
        (days_ago(5, 0).date(), "northrep"),
        (days_ago(5, 0).date(), "southrep"),
        (days_ago(12, 0).date(), "northrep"),
    ]
    d1, d5, south, d12 = rows
    assert (d12["expected"], d12["counted"], d12["variance"]) == (
        D("3000.00"),
        D("2900.00"),
        D("-100.00"),
    )
    assert (d12["status"], d12["confirmed_by"]) == ("Confirmed", "northmanager")
    # two cash-ups on D5 add up: 6000 expected over the two, 6000 counted
    assert len(d5["numbers"].split(", ")) == 2
    assert (d5["expected"], d5["counted"], d5["variance"]) == (D("6000.00"), D("6000.00"), 0)
    assert (d5["status"], d5["confirmed_by"]) == ("Awaiting confirmation", "")
    assert (south["depot"], south["expected"], south["shortfalls"]) == ("SOUTH", 0, 0)
    assert (d12["shortfalls"], d12["flag"]) == (1, "")
    assert (d5["shortfalls"], d5["flag"]) == (1, "")
    # D1: short again within 30 days of D12
    assert (d1["variance"], d1["shortfalls"], d1["flag"]) == (
        D("-10.00"),
        2,
        "Repeated shortfalls",
    )
    assert totals == {
        "expected": D("12000.00"),
        "counted": D("11890.00"),
        "variance": D("-110.00"),
    }


def test_shortfalls_before_the_period_still_count(world, head_office):
    rows, _ = run("cash-ups", head_office, date_from=days_ago(2, 0).date().isoformat())
    assert [(r["sales_rep"], r["shortfalls"], r["flag"]) for r in rows] == [
        ("northrep", 2, "Repeated shortfalls")
    ]


def test_within_the_tolerance_is_no_shortfall(world, head_office, settings):
    settings.CASHUP_VARIANCE_TOLERANCE = D("10.00")
    rows, _ = run("cash-ups", head_office)
    assert [r["shortfalls"] for r in rows] == [1, 1, 0, 1]
    assert not any(r["flag"] for r in rows)


def test_filters_and_a_managers_depots(world, head_office, manager):
    everything, _ = run("cash-ups", head_office)
    assert run("cash-ups", manager)[0] == [r for r in everything if r["depot"] == "NORTH"]
    assert run("cash-ups", head_office, depot="SOUTH")[0] == [everything[2]]
    assert run("cash-ups", head_office, sales_rep="southrep")[0] == [everything[2]]
    day = days_ago(5, 0).date().isoformat()
    assert run("cash-ups", head_office, date_from=day, date_to=day)[0] == everything[1:3]
    assert run("cash-ups", head_office, date_to=days_ago(30, 0).date().isoformat())[0] == []


def test_the_page_and_downloads(world, head_office, client):
    client.force_login(head_office)
    page = client.get("/admin/reports/cash-ups/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Repeated shortfalls" in text
    assert "Shortfalls in the last 30 days" in text
    api = APIClient()
    api.force_authenticate(head_office)
    raw = api.get("/api/reports/cash-ups/", {"format": "json"})
    data = json.loads(b"".join(raw.streaming_content) if raw.streaming else raw.content)
    assert data[0]["flag"] == "Repeated shortfalls"  # the newest day
    raw = api.get("/api/reports/cash-ups/", {"format": "csv"})
    content = b"".join(raw.streaming_content) if raw.streaming else raw.content
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Date", "Depot", "Representative"]
    assert len(rows) == 5
    xlsx = api.get("/api/reports/cash-ups/", {"format": "xlsx"})
    content = b"".join(xlsx.streaming_content) if xlsx.streaming else xlsx.content
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert str(sheet.cell(row=1, column=5).value).lower() == "expected"
    assert sheet.max_row >= 5
