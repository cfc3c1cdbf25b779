"""Reports date a sale by when it happened (occurred_at), not by when it was posted: a sale
made on the last day of a month on a handheld that was offline, synced two days later,
belongs to the month it was made. Its number (and its year) stay the posting's."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.test import RequestFactory
from django.utils import timezone

from reporting.catalogue import get_report
from reporting.dashboard import dashboard_context
from sales.models import Transaction
from sales.services import sale_post, sale_void

pytestmark = pytest.mark.django_db
pytest_plugins = ["billing.tests.statement_fixtures"]

D = Decimal


def at(day, hour=10):
    return timezone.make_aware(datetime.combine(day, time(hour)))


def months():
    """(last day of month M, 2nd of month N = M + 1, N's last day): both in the past."""
    first_this = timezone.localdate().replace(day=1)
    posted_day = (first_this - timedelta(days=1)).replace(day=2)
    return posted_day.replace(day=1) - timedelta(days=1), posted_day, first_this - timedelta(1)


def run(slug, user, **params):
    report = get_report(slug)
    filters = report.filters_from({k: str(v) for k, v in params.items()}, user)
    keys = report.keys
    return [dict(zip(keys, row, strict=True)) for row in report.rows(filters)]


def month_of(day):
    return {"date_from": day.replace(day=1), "date_to": day}


@pytest.fixture
def late_sale(ledger, products):
    """A credit sale of 1 x 12.7KG (3,000.00) made at 15:00 on the last day of month M,
    posted at 10:00 on the 2nd of month N."""
    happened, posted, _ = months()
    return sale_post(
        customer=ledger.customer,
        sales_rep=ledger.rep,
        actor=ledger.rep,
        lines=[{"product": products["12.7KG"], "quantity": 1}],
        occurred_at=at(happened, 15),
        at=at(posted),
    )


def test_the_sale_keeps_the_posting_s_number_and_both_moments(late_sale):
    happened, posted, _ = months()
    assert timezone.localtime(late_sale.occurred_at).date() == happened
    assert timezone.localtime(late_sale.created_at).date() == posted
    assert late_sale.number.startswith(f"TX-{posted.year}-")


def test_the_register_lists_it_in_the_month_it_happened(late_sale, head_office):
    happened, posted, last_of_n = months()
    rows = run("sales-register", head_office, **month_of(happened))
    assert [(r["number"], r["date"], r["posted"]) for r in rows] == [
        (late_sale.number, happened, posted)
    ]
    assert run("sales-register", head_office, **month_of(last_of_n)) == []
    label = {c.key: c.label for c in get_report("sales-register").columns}
    assert (label["date"], label["posted"]) == ("Happened", "Posted")


def test_the_register_and_meter_sales_list_sales_in_the_order_they_happened(
    ledger, products, head_office
):
    """A sale synced late has a later number than one posted live the day after it
    happened: it is still listed first."""
    happened, posted, _ = months()
    live = sale_post(
        customer=ledger.customer,
        sales_rep=ledger.rep,
        actor=ledger.rep,
        lines=[{"product": products["12.7KG"], "quantity": 1}],
        at=at(posted - timedelta(days=1)),
    )
    late = sale_post(
        customer=ledger.customer,
        sales_rep=ledger.rep,
        actor=ledger.rep,
        lines=[{"product": products["12.7KG"], "quantity": 1}],
        occurred_at=at(happened - timedelta(days=1)),
        at=at(posted),
    )
    rows = run("sales-register", head_office, date_from=happened - timedelta(days=3))
    # Newest first by when they happened: the one synced late happened first.
    assert [r["number"] for r in rows] == [live.number, late.number]
    assert late.number > live.number


def test_the_sales_summary_counts_it_in_its_month(late_sale, head_office):
    happened, _, last_of_n = months()
    month = happened.strftime("%Y-%m")
    for group_by in ("depot", "product"):
        rows = run("sales-summary", head_office, group_by=group_by, date_from=happened)
        assert [(r["period"], r["sales"], r["amount"]) for r in rows] == [(month, 1, D("3000"))]
        assert run("sales-summary", head_office, group_by=group_by, **month_of(last_of_n)) == []
    rows = run("sales-summary", head_office, period="day", date_from=happened)
    assert [r["period"] for r in rows] == [happened.isoformat()]


def test_the_tax_summary_takes_it_in_its_month_and_its_void_in_the_void_s(late_sale, head_office):
    happened, posted, last_of_n = months()
    sale_void(transaction=late_sale, actor=head_office, reason="Wrong customer", at=at(posted, 12))
    rows = run("tax-summary", head_office, date_from=happened)
    assert [(r["period"], r["invoices"], r["credit_notes"], r["net"]) for r in rows] == [
        (posted.strftime("%Y-%m"), 0, 1, D("-3000")),  # newest month first
        (happened.strftime("%Y-%m"), 1, 0, D("3000")),
    ]
    rows = run("tax-summary", head_office, **month_of(last_of_n))
    assert [(r["invoices"], r["credit_notes"]) for r in rows] == [(0, 1)]


def test_receivables_age_a_sale_from_the_day_it_happened(ledger, products, head_office):
    """Made 31 days ago, posted 29 days ago: 31-60 days, not 0-30."""
    today = timezone.localdate()
    sale_post(
        customer=ledger.customer,
        sales_rep=ledger.rep,
        actor=ledger.rep,
        lines=[{"product": products["12.7KG"], "quantity": 1}],
        occurred_at=at(today - timedelta(days=31), 9),
        at=at(today - timedelta(days=29)),
    )
    [row] = run("receivables", head_office)
    assert (row["days_0_30"], row["days_31_60"], row["balance"]) == (0, D("3000"), D("3000"))


def test_the_dashboard_counts_the_sales_that_happened_today(ledger, products, head_office):
    now = timezone.now()
    yesterday = at(timezone.localdate(now) - timedelta(days=1), 12)
    for occurred in (yesterday, None):
        sale_post(
            customer=ledger.customer,
            sales_rep=ledger.rep,
            actor=ledger.rep,
            lines=[{"product": products["12.7KG"], "quantity": 1}],
            occurred_at=occurred,
        )
    assert Transaction.objects.filter(created_at__date=timezone.localdate(now)).count() == 2
    request = RequestFactory().get("/admin/", {"refresh": "1"})
    request.user = head_office
    panels = dashboard_context(request)["dashboard"]["panels"]
    today = panels["sales"]["data"]["periods"][0]  # "Today"
    assert (today["label"], today["count"], today["amount"]) == ("Today", 1, D("3000.00"))
