"""The admin dashboard (reporting.dashboard): figures worked out by hand from the
`history` fixture (reporting/tests/conftest.py), scoped to a manager's depots, filtered
by dates and depot, each linking to its filtered list or report, cached with its time."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core import display
from reporting.dashboard import dashboard_context
from sales.services import cashup_post, sale_post

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def since(days=45):
    """The filter covering the whole history (its first sales were 40 days ago)."""
    today = timezone.localdate()
    return {"date_from": (today - timedelta(days=days)).isoformat(), "date_to": today.isoformat()}


def board(user, **params):
    request = RequestFactory().get("/admin/", params)
    request.user = user
    return dashboard_context(request)


def figures(user, **params):
    return {name: p["data"] for name, p in board(user, **params)["dashboard"]["panels"].items()}


def test_head_office_sees_every_depot_s_sales_against_a_year_before(history, head_office):
    sales = figures(head_office, **since())["sales"]
    chosen = sales["periods"][-1]
    # C1 31,000 + C2 3,100 (D40), C1 15,000 + C3 11,600 (D20); the void (D5) is not a sale.
    assert (chosen["count"], chosen["amount"]) == (4, D("60700.00"))
    assert (chosen["count_before"], chosen["amount_before"], chosen["change"]) == (0, 0, "")
    assert [(k["label"], k["count"], k["amount"]) for k in sales["kinds"]] == [
        ("Cash", 1, D("3100.00")),
        ("Credit", 3, D("57600.00")),
    ]
    # C1 paid 20,000 on D10: its D40 sale part paid (11,000 owed), the other two unpaid.
    assert [(p["label"], p["count"], p["amount"], p["due"]) for p in sales["payment"]] == [
        ("Paid", 1, D("3100.00"), None),
        ("Part paid", 1, D("31000.00"), D("11000.00")),
        ("Unpaid (credit)", 2, D("26600.00"), D("26600.00")),
        ("Void", 1, D("9300.00"), None),
    ]
    assert [p["label"] for p in sales["periods"]] == [
        "Today",
        "This month",
        "This year",
        f"{chosen['days']}",
    ]


def test_today_month_and_year_count_up_to_the_range_s_last_day(history, head_office):
    day_of_d20 = timezone.localdate() - timedelta(days=20)
    sales = figures(head_office, date_to=day_of_d20.isoformat())["sales"]
    day, month, year, chosen = sales["periods"]
    assert (day["count"], day["amount"]) == (2, D("26600.00"))  # C1's meter and C3 on D20
    assert day["label"] == display.day(day_of_d20)  # not "Today"
    assert month["label"] == f"Month to {day['label']}"
    assert year["label"] == f"Year to {day['label']}"
    assert chosen["days"] == f"{display.day(day_of_d20 - timedelta(days=29))} to {day['label']}"
    assert year["amount"] >= month["amount"] >= day["amount"]


def test_receivables_are_aged_as_the_report_ages_them(history, head_office):
    receivables = figures(head_office)["receivables"]
    assert [(b["label"], b["count"], b["amount"]) for b in receivables["buckets"]] == [
        ("0-30 days", 2, D("26600.00")),
        ("31-60 days", 1, D("11000.00")),
        ("61-90 days", 0, D("0")),
        ("Over 90 days", 0, D("0")),
    ]
    assert (receivables["overdue"], receivables["total"]) == (D("11000.00"), D("37600.00"))
    assert receivables["link"] == reverse("reports:report", args=["receivables"])


def test_top_customers_trend_cylinders_and_invoices(history, head_office):
    data = figures(head_office, **since())
    assert [(r["label"], r["amount"]) for r in data["top"]["rows"]] == [
        ("Hotel (C1)", D("46000.00")),
        ("Cafe (C3)", D("11600.00")),
        ("Shop (C2)", D("3100.00")),
    ]
    months = data["sales"]["months"]
    assert len(months) == 13
    assert sum(m["amount"] for m in months) == D("60700.00")
    assert months[-1]["label"] == f"{timezone.localdate():%b %Y}"
    north, south = data["cylinders"]["rows"]
    # NORTH: 50 in, 10 out to the van, 3 empties back; the van sold 3 and holds 7.
    assert (north["depot"], north["full"], north["empty"], north["vehicle_full"]) == (
        "NORTH",
        40,
        3,
        7,
    )
    assert (south["depot"], south["full"], south["vehicle_full"]) == ("SOUTH", 16, 0)
    # No customer has an e-mail address and nothing was printed: every posted sale.
    assert data["invoices"]["rows"][0]["count"] == 4


def test_a_manager_sees_their_depots_only_and_cannot_pick_another(history, manager):
    data = figures(manager, **since())
    assert data["sales"]["periods"][-1]["amount"] == D("49100.00")  # no SOUTH sale
    assert [r["depot"] for r in data["cylinders"]["rows"]] == ["NORTH"]
    assert "Cafe (C3)" not in [r["label"] for r in data["top"]["rows"]]
    assert board(manager)["dashboard"]["depots"] == [("NORTH", "North depot")]

    refused = board(manager, depot="SOUTH")
    assert refused["dashboard_status"] == 400
    assert refused["dashboard"]["errors"] == ["Depot: You do not work for depot SOUTH."]
    assert refused["dashboard"]["depots"] == [("NORTH", "North depot")]  # to correct it


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "2026-13-01"}, "From: The date 2026-13-01 does not exist"),
        ({"date_to": "yesterday"}, "To: Enter a date as YYYY-MM-DD"),
        ({"date_from": "2026-05-02", "date_to": "2026-05-01"}, "'Date to' is before 'Date from'."),
        ({"depot": "NOWHERE"}, "Depot: No depot 'NOWHERE'."),
        ({"customer": "C1"}, "The dashboard does not filter by customer"),
        ({"colour": "red"}, "colour: Unknown filter."),
    ],
)
def test_a_bad_filter_is_a_clear_message_not_a_server_error(client, head_office, params, message):
    client.force_login(head_office)
    response = client.get(reverse("admin:index"), params)
    assert response.status_code == 400
    text = response.content.decode()
    assert "The dashboard could not use this filter" in text
    assert message.replace("'", "&#x27;") in text


def test_the_page_shows_figures_charts_quick_actions_and_their_time(client, history, head_office):
    client.force_login(head_office)
    response = client.get(reverse("admin:index"), since())
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('role="img"') == 4
    for title in ("Sales by month", "Cylinders by depot", "Top 10 customers", "payment status"):
        assert re.search(rf'<svg [^>]*aria-label="[^"]*{title}', html)
    assert "60,700.00" in html
    for page in ("sales_transaction", "sales_payment", "stock_distribution", "stock_stockcount"):
        assert f'href="{reverse(f"admin:{page}_add")}"' in html
    as_of = timezone.localtime().strftime("%H:")
    assert f"As of {as_of}" in html
    assert 'name="date_from"' in html
    assert 'name="depot"' in html
    assert response.context["dashboard_panels"]  # the apps' own panels still below


def test_each_figure_links_to_its_list_already_filtered(client, history, head_office, north):
    client.force_login(head_office)
    params = {**since(), "depot": "NORTH"}
    data = {
        n: p["data"]
        for n, p in client.get("/admin/", params).context["dashboard"]["panels"].items()
    }
    chosen = data["sales"]["periods"][-1]
    assert chosen["link"] == (
        f"/admin/reports/sales-register/?date_from={params['date_from']}"
        f"&date_to={params['date_to']}&depot=NORTH"
    )
    register = client.get(chosen["link"])
    assert register.status_code == 200
    assert "49,100.00" in register.content.decode()  # the register's total: the figure
    unpaid = next(p for p in data["sales"]["payment"] if p["label"] == "Unpaid (credit)")
    listed = client.get(unpaid["link"])
    assert listed.status_code == 200
    assert listed.context["cl"].result_count == 1  # C1's D20 meter sale (C3 is SOUTH's)
    assert f"depot__id__exact={north.pk}" in unpaid["link"]
    generated = data["invoices"]["rows"][0]
    assert client.get(generated["link"]).context["cl"].result_count == generated["count"] == 3
    for link in (
        data["cylinders"]["rows"][0]["full_link"],
        data["cylinders"]["rows"][0]["held_link"],
        data["receivables"]["link"],
        data["low_stock"]["link"],
        data["refusals"]["link"],
        data["cashups"]["link"],
        data["top"]["rows"][0]["link"],
        data["sales"]["months"][-1]["link"],
    ):
        assert client.get(link).status_code == 200, link


def test_figures_are_cached_until_read_again(history, head_office, sales_rep, products):
    first = board(head_office, **since())["dashboard"]["panels"]["sales"]
    sale_post(
        customer=history["c1"],
        sales_rep=sales_rep,
        actor=sales_rep,
        lines=[{"product": history["cyl"], "quantity": 1}],
    )
    cached = board(head_office, **since())["dashboard"]["panels"]["sales"]
    assert cached == first  # the same figures, the same "as of"
    fresh = board(head_office, refresh="1", **since())["dashboard"]["panels"]["sales"]
    assert fresh["data"]["periods"][-1]["count"] == first["data"]["periods"][-1]["count"] + 1
    assert fresh["at"] >= first["at"]


def test_each_scope_has_its_own_cached_figures(history, head_office, manager):
    assert figures(head_office, **since())["sales"]["periods"][-1]["amount"] == D("60700.00")
    assert figures(manager, **since())["sales"]["periods"][-1]["amount"] == D("49100.00")


def test_cash_up_variances_and_sync_refusals_are_listed(history, head_office, sales_rep):
    cashup = cashup_post(sales_rep=sales_rep, counted_cash="3000", actor=head_office)
    data = figures(head_office)
    [row] = data["cashups"]["rows"]
    assert (row["number"], row["variance"]) == (cashup.number, cashup.variance)
    assert cashup.variance != 0
    assert data["cashups"]["awaiting"] == 1
    assert data["refusals"]["count"] == 0


def _queries(user, **params):
    with CaptureQueriesContext(connection) as ctx:
        board(user, **params)
    return len(ctx.captured_queries)


def test_query_counts_are_pinned_and_do_not_grow_with_the_rows(
    history, head_office, manager, sales_rep, customer_factory
):
    # A read of every figure: one query for the sales and their trend, two for the top
    # customers, one each for receivables and low stock, two for invoices, three for
    # cylinders, two each for refusals and cash-ups, one for the depots of the filter;
    # the first time, the user's permissions too (2: the admin's own pages read them).
    assert _queries(head_office, **since()) == 2 + 15
    assert _queries(head_office, **since()) == 0  # all from the cache
    for _ in range(3):
        customer = customer_factory(rates={"12.7KG": "3000.00"})
        sale_post(
            customer=customer,
            sales_rep=sales_rep,
            actor=sales_rep,
            lines=[{"product": history["cyl"], "quantity": 1}],
        )
    assert _queries(head_office, refresh="1", **since()) == 15
    # A manager: their depots too (the filter's check), on every page.
    assert _queries(manager, **since()) == 2 + 1 + 15
    assert _queries(manager, **since()) == 1


def test_money_reads_with_the_currency_on_the_figures(
    client, history, head_office, sales_rep, settings
):
    settings.CURRENCY = "LKR"
    sale_post(
        customer=history["c1"],
        sales_rep=sales_rep,
        actor=sales_rep,
        lines=[{"product": history["cyl"], "quantity": 1}],
    )
    client.force_login(head_office)
    html = client.get(reverse("admin:index"), since()).content.decode()
    assert "LKR 63,700.00" in html  # the range: 60,700 and today's 3,000
    assert "LKR 3,000.00" in html  # today's sales, on the dashboard's own figures
    assert "Sales today (" not in html  # the apps' older panel that repeated them is gone
    assert re.search(r'text-anchor="end">LKR \d+(\.\d+)?k</text>', html)  # the trend's axis
