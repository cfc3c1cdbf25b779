"""The vehicle reconciliation counts a movement on the day its document happened (a sale,
a load sheet or a cylinder return synced late from a handheld); the stock ledger stays in
the order things were posted and shows beside each movement when it happened."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from reporting.catalogue import get_report
from sales.services import sale_post
from stock.models import Distribution
from stock.services import distribution_create, stock_receive

pytestmark = pytest.mark.django_db
pytest_plugins = ["billing.tests.statement_fixtures"]


def at(day, hour=10):
    return timezone.make_aware(datetime.combine(day, time(hour)))


def run(slug, user, **params):
    report = get_report(slug)
    filters = report.filters_from({k: str(v) for k, v in params.items()}, user)
    return [dict(zip(report.keys, row, strict=True)) for row in report.rows(filters)]


@pytest.fixture
def day():
    return timezone.localdate() - timedelta(days=20)


@pytest.fixture
def late_day(account, north, sales_rep, head_office, products, day):
    """On `day`: 10 full 12.7KG collected at 08:00 (a load sheet synced at 12:00) and one
    sold at 15:00 (synced two days later, with its empty back)."""
    cylinder = products["12.7KG"]
    stock_receive(depot=north, product=cylinder, quantity=50, actor=head_office, at=at(day, 7))
    sheet = distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cylinder,
        quantity=10,
        kind="COLLECTION",
        actor=head_office,
        at=at(day, 12),
    )
    Distribution.objects.filter(pk=sheet.pk).update(occurred_at=at(day, 8))
    return sale_post(
        customer=account,
        sales_rep=sales_rep,
        actor=sales_rep,
        lines=[{"product": cylinder, "quantity": 1}],
        occurred_at=at(day, 15),
        at=at(day + timedelta(days=2)),
    )


def test_the_reconciliation_counts_a_late_sale_on_the_day_it_was_made(late_day, head_office, day):
    rows = run("vehicle-reconciliation", head_office, sales_rep="northrep", date_from=day)
    table = {(r["date"], r["state"]): r for r in rows}
    assert set(table) == {(day, "FULL"), (day, "EMPTY")}
    full = table[(day, "FULL")]
    assert (full["opening"], full["collected"], full["sold"], full["closing"]) == (0, 10, 1, 9)
    assert full["flag"] == ""
    assert table[(day, "EMPTY")]["collected"] == 1


def test_a_later_day_opens_with_what_happened_before_it(
    late_day, account, sales_rep, products, head_office, day
):
    """The next day's sale, posted live before the late one was synced: that day opens
    with 9 full cylinders (the late sale happened before it), not 10."""
    next_day = day + timedelta(days=1)
    sale_post(
        customer=account,
        sales_rep=sales_rep,
        actor=sales_rep,
        lines=[{"product": products["12.7KG"], "quantity": 1}],
        at=at(next_day),
    )
    rows = run("vehicle-reconciliation", head_office, sales_rep="northrep", date_from=next_day)
    full = [
        (r["date"], r["opening"], r["sold"], r["closing"]) for r in rows if r["state"] == "FULL"
    ]
    assert full == [(next_day, 9, 1, 8)]


def test_the_stock_ledger_keeps_posting_order_and_shows_when_each_happened(
    late_day, head_office, day
):
    rows = run("stock-ledger", head_office, sales_rep="northrep", date_from=day)
    full = [
        (r["kind"], r["date"], r["happened"], r["balance"]) for r in rows if r["state"] == "FULL"
    ]
    assert full == [
        ("OPENING", day, None, 0),
        ("COLLECTION", day, day, 10),
        ("SALE", day + timedelta(days=2), day, 9),
        ("CLOSING", None, None, 9),
    ]
    labels = {c.key: c.label for c in get_report("stock-ledger").columns}
    assert (labels["date"], labels["happened"]) == ("Posted", "Happened")
