"""tax-summary: net, tax and gross by month, depot and tax rate, credit notes netted, on
the history of conftest.py taxed at 10 % (from D50) and 15 % (from D15).

By hand: D40 NORTH C1 31000 + C2 3100 = 34100 at 10 % (3410); D20 NORTH C1 15000 (1500),
SOUTH C3 11600 (1160), both at 10 %; D5 NORTH C2 9300 at 15 % (1395), voided the same
day: its credit note nets it to 0 in that month."""

from collections import defaultdict
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.demo import days_ago
from reporting.catalogue import get_report
from reporting.filters import parse_filters
from sales.models import CreditNote
from sales.services import rate_set, sale_post, sale_void, tax_rate_set

pytestmark = pytest.mark.django_db


def run(user, **params):
    report = get_report("tax-summary")
    filters = parse_filters({k: str(v) for k, v in params.items()}, user, options=report.options)
    keys = report.keys
    rows = [dict(zip(keys, row, strict=True)) for row in report.rows(filters)]
    return rows, report.totals(filters)


def month(moment):
    return timezone.localtime(moment).strftime("%Y-%m")


@pytest.fixture
def taxed_history(request, head_office):
    tax_rate_set(rate="10", actor=head_office, effective_from=days_ago(50, 0), at=days_ago(50, 0))
    tax_rate_set(rate="15", actor=head_office, effective_from=days_ago(15, 0), at=days_ago(50, 0))
    return request.getfixturevalue("history")


def expected(*documents):
    """{(period, depot, rate): [invoices, credit notes, net, tax, gross]} from
    (moment, depot, rate, net, tax, is_credit_note) by hand."""
    table = defaultdict(lambda: [0, 0, Decimal("0"), Decimal("0"), Decimal("0")])
    for moment, depot, rate, net, tax, credit in documents:
        cell = table[(month(moment), depot, Decimal(rate))]
        sign = -1 if credit else 1
        cell[1 if credit else 0] += 1
        cell[2] += sign * Decimal(net)
        cell[3] += sign * Decimal(tax)
        cell[4] += sign * (Decimal(net) + Decimal(tax))
    return [
        {
            "period": period,
            "depot": depot,
            "tax_rate": rate,
            "invoices": cell[0],
            "credit_notes": cell[1],
            "net": cell[2],
            "tax": cell[3],
            "gross": cell[4],
        }
        # Newest month first; within a month by depot and rate.
        for (period, depot, rate), cell in sorted(
            sorted(table.items(), key=lambda item: item[0][1:]),
            key=lambda item: item[0][0],
            reverse=True,
        )
    ]


HISTORY = [
    (days_ago(40, 10), "NORTH", "10", "31000", "3100", False),
    (days_ago(40, 10), "NORTH", "10", "3100", "310", False),
    (days_ago(20, 10), "NORTH", "10", "15000", "1500", False),
    (days_ago(20, 11), "SOUTH", "10", "11600", "1160", False),
    (days_ago(5, 10), "NORTH", "15", "9300", "1395", False),
    (days_ago(5, 16), "NORTH", "15", "9300", "1395", True),
]


def test_tax_by_month_depot_and_rate_with_voids_netted(taxed_history, head_office):
    voided = taxed_history["voided"]
    voided.refresh_from_db()
    assert (voided.tax_rate, voided.tax_amount) == (Decimal("15"), Decimal("1395.00"))
    assert CreditNote.objects.get(transaction=voided).amount == Decimal("10695.00")
    rows, totals = run(head_office)
    assert rows == expected(*HISTORY)
    assert totals == {
        "invoices": 5,
        "credit_notes": 1,
        "net": Decimal("60700"),
        "tax": Decimal("6070"),
        "gross": Decimal("66770"),
    }


def test_depot_and_dates_filter_and_a_manager_sees_their_depots(
    taxed_history, head_office, manager
):
    rows, _ = run(head_office, depot="SOUTH")
    assert rows == expected(HISTORY[3])
    day = days_ago(20, 12).date()
    rows, _ = run(head_office, date_from=day, date_to=day)
    assert rows == expected(HISTORY[2], HISTORY[3])
    rows, _ = run(manager)
    assert rows == expected(*[d for d in HISTORY if d[1] == "NORTH"])


def test_a_void_in_a_later_month_is_netted_in_that_month_at_the_sale_s_rate(
    head_office, customer_factory, loaded_vehicle, products
):
    cash_customer = customer_factory("CASH")
    now = timezone.now()
    first_of_month = timezone.make_aware(
        datetime.combine(timezone.localdate(now).replace(day=1), time(0))
    )
    last_month = first_of_month - timedelta(days=2)
    tax_rate_set(rate="10", actor=head_office, effective_from=last_month, at=last_month)
    rate_set(
        customer=cash_customer,
        product=products["9KG"],
        rate="2200",
        actor=head_office,
        effective_from=last_month,
        at=last_month,
    )
    sale = sale_post(
        customer=cash_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["9KG"], "quantity": 1}],
        at=last_month + timedelta(hours=1),
    )
    tax_rate_set(rate="20", actor=head_office, at=first_of_month)  # the void keeps 10 %
    sale_void(transaction=sale, actor=head_office, reason="returned", at=now)
    rows, totals = run(head_office)
    assert rows == expected(
        (last_month, "NORTH", "10", "2200", "220", False),
        (now, "NORTH", "10", "2200", "220", True),
    )
    assert (rows[0]["net"], rows[0]["tax"], rows[0]["gross"]) == (  # this month's, first
        Decimal("-2200.00"),
        Decimal("-220.00"),
        Decimal("-2420.00"),
    )
    assert (totals["net"], totals["tax"], totals["gross"]) == (0, 0, 0)
