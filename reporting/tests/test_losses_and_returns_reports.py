"""write-offs (losses apart from count differences) and the vehicle reconciliation with
cylinder returns: empties collected from a customer without a sale are received on the
vehicle, not a difference to check."""

from decimal import Decimal

import pytest

from core.demo import days_ago
from reporting.catalogue import get_report
from reporting.filters import FilterError
from sales.models import Customer
from sales.services import cylinder_return, rate_set, sale_post
from stock.services import distribution_create, stock_receive, stock_write_off

pytestmark = pytest.mark.django_db


def run(slug, user, **params):
    report = get_report(slug)
    filters = report.filters_from({k: str(v) for k, v in params.items()}, user)
    rows = [dict(zip(report.keys, row, strict=True)) for row in report.rows(filters)]
    return rows, report.totals(filters)


@pytest.fixture
def losses(north, south, head_office, products, sales_rep):
    cyl = products["12.7KG"]
    for depot in (north, south):
        stock_receive(depot=depot, product=cyl, quantity=20, actor=head_office)
    distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=5,
        kind="COLLECTION",
        actor=head_office,
    )
    stock_write_off(
        product=cyl,
        state="FULL",
        quantity=2,
        cause="DAMAGED",
        reason="dented in the yard",
        actor=head_office,
        depot=north,
        at=days_ago(3, 10),
    )
    stock_write_off(
        product=cyl,
        state="FULL",
        quantity=1,
        cause="LOST",
        reason="fell off the truck",
        actor=head_office,
        sales_rep=sales_rep,
        at=days_ago(2, 10),
    )
    stock_write_off(
        product=cyl,
        state="FULL",
        quantity=4,
        cause="CONDEMNED",
        reason="failed test",
        actor=head_office,
        depot=south,
        at=days_ago(1, 10),
    )
    return cyl


def test_write_offs_list_each_loss_with_its_cause_and_reason(losses, head_office, manager):
    rows, totals = run("write-offs", head_office)
    assert [(r["depot"], r["vehicle"], r["quantity"], r["state"]) for r in rows] == [
        ("SOUTH", "", 4, "Full"),  # newest first
        ("NORTH", "northrep", 1, "Full"),
        ("NORTH", "", 2, "Full"),
    ]
    oldest = rows[-1]
    assert oldest["reason"].startswith("Damaged")
    assert "dented in the yard" in oldest["reason"]
    assert oldest["recorded_by"] == head_office.username
    assert oldest["date"] == days_ago(3, 10).date()
    assert totals == {"quantity": 7}
    # a manager sees their depots only; filters narrow it
    assert [r["depot"] for r in run("write-offs", manager)[0]] == ["NORTH", "NORTH"]
    assert [r["quantity"] for r in run("write-offs", head_office, sales_rep="northrep")[0]] == [1]
    since = days_ago(2, 0).date().isoformat()
    assert [r["quantity"] for r in run("write-offs", head_office, date_from=since)[0]] == [4, 1]


def test_write_offs_refuse_a_filter_they_do_not_use(losses, head_office):
    with pytest.raises(FilterError) as refused:
        get_report("write-offs").filters_from({"customer": "C1"}, head_office)
    assert list(refused.value.errors) == ["customer"]


def test_a_cylinder_return_is_received_on_the_vehicle_not_a_difference(
    north, head_office, products, sales_rep
):
    cyl = products["12.7KG"]
    customer = Customer.objects.create(code="C9", name="Nine", depot=north, payment_type="CREDIT")
    rate_set(
        customer=customer,
        product=cyl,
        rate=Decimal("100.00"),
        actor=head_office,
        effective_from=days_ago(30, 0),
    )
    stock_receive(depot=north, product=cyl, quantity=10, actor=head_office)
    distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=4,
        kind="COLLECTION",
        actor=head_office,
    )
    sale_post(
        customer=customer,
        sales_rep=sales_rep,
        actor=sales_rep,
        lines=[{"product": cyl, "quantity": 3, "empties_returned": 0}],
    )
    cylinder_return(
        customer=customer,
        sales_rep=sales_rep,
        lines=[{"product": cyl, "quantity": 2}],
        actor=sales_rep,
    )
    rows, _ = run("vehicle-reconciliation", head_office)
    empty = [r for r in rows if r["state"] == "EMPTY"]
    assert len(empty) == 1
    assert empty[0]["collected"] == 2
    assert empty[0]["closing"] == 2
    assert empty[0]["difference"] == 0
    assert empty[0]["flag"] == ""
