"""low-stock, plant-exchange, cylinders-held and deposits: figures worked out by hand,
their filters, a manager's depots, and the CSV/XLSX the API gives.

The world (D400 = 400 days ago):
- NORTH: minimum 20 full 12.7KG, 12 at the depot (8 short); minimum 5 full 9KG, 5 held.
  SOUTH: minimum 10 full 12.7KG, none.
- Plant: NORTH sends 30 empty 12.7KG on D70 and 10 on D40, receives 12 full on D40 and
  20 on D5 (the 12 above are what is left of those); SOUTH sends 6 on D40.
- Holdings: C1 (NORTH) 2 x 12.7KG, deposit 3000.00, last moved D400; 1 x 9KG, no deposit,
  D5. C2 (NORTH) 5 x 12.7KG, 7500.00, D10. C3 (SOUTH) 3 x 12.7KG, 4200.00, D200.
  C4 (NORTH) returned all it had: 0 and 0.00, left out.
"""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from rest_framework.test import APIClient

from core.demo import days_ago
from reporting.catalogue import get_report
from reporting.filters import FilterError, parse_filters
from sales.models import Customer, CylinderHolding
from stock.services import (
    distribution_create,
    empties_dispatch,
    reorder_level_set,
    stock_adjust,
    stock_receive,
)

pytestmark = pytest.mark.django_db


def run(slug, user, **params):
    report = get_report(slug)
    filters = report.filters_from({k: str(v) for k, v in params.items()}, user)
    keys = report.keys
    rows = [dict(zip(keys, row, strict=True)) for row in report.rows(filters)]
    return rows, report.totals(filters)


def body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def dispatch(depot, product, quantity, actor, at):
    """Empties counted in at the depot, then sent to the plant."""
    stock_adjust(
        depot=depot, product=product, state="EMPTY", counted=quantity, reason="in", actor=actor
    )
    empties_dispatch(
        depot=depot, product=product, quantity=quantity, actor=actor, reference="DN-1", at=at
    )


@pytest.fixture
def custody(north, south, head_office, products, sales_rep):
    cyl, nine = products["12.7KG"], products["9KG"]
    reorder_level_set(depot=north, product=cyl, minimum_full=20, actor=head_office)
    reorder_level_set(depot=north, product=nine, minimum_full=5, actor=head_office)
    reorder_level_set(depot=south, product=cyl, minimum_full=10, actor=head_office)
    dispatch(north, cyl, 30, head_office, days_ago(70, 9))
    dispatch(north, cyl, 10, head_office, days_ago(40, 9))
    dispatch(south, cyl, 6, head_office, days_ago(40, 9))
    stock_receive(depot=north, product=cyl, quantity=12, actor=head_office, at=days_ago(40, 15))
    stock_receive(depot=north, product=cyl, quantity=20, actor=head_office, at=days_ago(5, 15))
    stock_receive(depot=north, product=nine, quantity=5, actor=head_office, at=days_ago(5, 15))
    distribution_create(  # on the vehicle: not the depot's
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=20,
        kind="COLLECTION",
        actor=head_office,
    )
    customers = {
        code: Customer.objects.create(code=code, name=f"Name {code}", depot=depot)
        for code, depot in (("C1", north), ("C2", north), ("C3", south), ("C4", north))
    }
    for code, product, quantity, deposit, moved in (
        ("C1", cyl, 2, "3000.00", days_ago(400, 10)),
        ("C1", nine, 1, "0.00", days_ago(5, 10)),
        ("C2", cyl, 5, "7500.00", days_ago(10, 10)),
        ("C3", cyl, 3, "4200.00", days_ago(200, 10)),
        ("C4", cyl, 0, "0.00", days_ago(3, 10)),
    ):
        CylinderHolding.objects.create(
            customer=customers[code],
            product=product,
            quantity=quantity,
            deposit_held=Decimal(deposit),
            last_movement_at=moved,
        )
    return customers


def test_low_stock(custody, head_office, manager):
    rows, totals = run("low-stock", head_office)
    assert rows == [
        {
            "depot": "NORTH",
            "depot_name": "North depot",
            "product": "12.7KG",
            "full": 12,
            "minimum": 20,
            "short": 8,
        },
        {
            "depot": "SOUTH",
            "depot_name": "South depot",
            "product": "12.7KG",
            "full": 0,
            "minimum": 10,
            "short": 10,
        },
    ]
    assert totals == {"short": 18}
    assert [r["depot"] for r in run("low-stock", manager)[0]] == ["NORTH"]
    assert run("low-stock", head_office, depot="SOUTH")[0] == rows[1:]
    assert run("low-stock", head_office, product="9KG")[0] == []


def test_plant_exchange_by_month_and_day_with_what_is_outstanding(custody, head_office):
    rows, totals = run("plant-exchange", head_office, period="day")
    slim = [(r["depot"], r["sent"], r["received"], r["difference"], r["outstanding"]) for r in rows]
    assert slim == [  # newest first; outstanding runs forwards in time
        ("NORTH", 0, 5, -5, -5),  # 9KG (first in the product order), D5
        ("NORTH", 0, 20, -20, 8),  # D5
        ("NORTH", 10, 12, -2, 28),  # D40
        ("SOUTH", 6, 0, 6, 6),  # D40
        ("NORTH", 30, 0, 30, 30),  # D70
    ]
    assert [r["period"] for r in rows[1:]] == [
        days_ago(n, 9).date().isoformat() for n in (5, 40, 40, 70)
    ]
    assert totals == {"sent": 46, "received": 37, "difference": 9}
    # 9KG received (5) is a row of its own product.
    rows, _ = run("plant-exchange", head_office, product="9KG")
    assert [(r["product"], r["received"], r["outstanding"]) for r in rows] == [("9KG", 5, -5)]
    # A period from D40 carries what was outstanding before it (30).
    rows, _ = run(
        "plant-exchange",
        head_office,
        period="day",
        depot="NORTH",
        product="12.7KG",
        date_from=days_ago(40, 0).date(),
        date_to=days_ago(6, 0).date(),
    )
    assert [(r["sent"], r["received"], r["outstanding"]) for r in rows] == [(10, 12, 28)]
    rows, _ = run("plant-exchange", head_office)  # by month
    assert sum(r["sent"] for r in rows) == 46
    assert {len(r["period"]) for r in rows} == {7}  # YYYY-MM


def test_plant_exchange_for_a_manager_is_their_depots(custody, manager):
    rows, _ = run("plant-exchange", manager)
    assert {r["depot"] for r in rows} == {"NORTH"}


def test_cylinders_held_with_the_last_movement(custody, head_office, manager):
    rows, totals = run("cylinders-held", head_office)
    assert [
        (r["customer_code"], r["product"], r["quantity"], r["deposit_held"], r["last_movement"])
        for r in rows
    ] == [
        ("C1", "9KG", 1, Decimal("0.00"), days_ago(5, 10).date()),  # product order
        ("C1", "12.7KG", 2, Decimal("3000.00"), days_ago(400, 10).date()),
        ("C2", "12.7KG", 5, Decimal("7500.00"), days_ago(10, 10).date()),
        ("C3", "12.7KG", 3, Decimal("4200.00"), days_ago(200, 10).date()),
    ]
    assert totals == {"quantity": 11, "deposit_held": Decimal("14700.00")}
    # Not moved for 100 days: C1's 12.7KG and C3's.
    idle, _ = run("cylinders-held", head_office, date_to=days_ago(100, 0).date())
    assert [(r["customer_code"], r["product"]) for r in idle] == [
        ("C1", "12.7KG"),
        ("C3", "12.7KG"),
    ]
    mine, totals = run("cylinders-held", manager)
    assert {r["depot"] for r in mine} == {"NORTH"}
    assert totals == {"quantity": 8, "deposit_held": Decimal("10500.00")}
    assert len(run("cylinders-held", head_office, product="9KG", depot="NORTH")[0]) == 1
    assert [r["product"] for r in run("cylinders-held", head_office, customer="C1")[0]] == [
        "9KG",
        "12.7KG",
    ]


def test_deposits_held_per_customer_product_and_depot(custody, head_office, manager):
    rows, totals = run("deposits", head_office)
    assert [
        (r["customer_code"], r["product"], r["cylinders"], r["deposit_held"], r["per_cylinder"])
        for r in rows
    ] == [
        ("C1", "12.7KG", 2, Decimal("3000.00"), Decimal("1500.00")),
        ("C2", "12.7KG", 5, Decimal("7500.00"), Decimal("1500.00")),
        ("C3", "12.7KG", 3, Decimal("4200.00"), Decimal("1400.00")),
    ]
    assert totals == {"cylinders": 10, "deposit_held": Decimal("14700.00")}
    by_depot, _ = run("deposits", head_office, group_by="depot")
    assert [(r["depot"], r["cylinders"], r["deposit_held"]) for r in by_depot] == [
        ("NORTH", 7, Decimal("10500.00")),
        ("SOUTH", 3, Decimal("4200.00")),
    ]
    by_product, totals = run("deposits", manager, group_by="product")
    assert [(r["product"], r["cylinders"], r["per_cylinder"]) for r in by_product] == [
        ("12.7KG", 7, Decimal("1500.00"))
    ]
    assert totals["deposit_held"] == Decimal("10500.00")


@pytest.mark.parametrize(
    ("slug", "params", "name"),
    [
        ("deposits", {"date_to": "2026-01-01"}, "date_to"),
        ("deposits", {"group_by": "colour"}, "group_by"),
        ("low-stock", {"customer": "C1"}, "customer"),
        ("cylinders-held", {"depot": "SOUTH"}, "depot"),
        ("plant-exchange", {"period": "year"}, "period"),
    ],
)
def test_bad_filters_are_named(custody, manager, slug, params, name):
    with pytest.raises(FilterError) as refused:
        get_report(slug).filters_from(params, manager)
    assert list(refused.value.errors) == [name]


@pytest.mark.parametrize("slug", ["low-stock", "plant-exchange", "cylinders-held", "deposits"])
def test_csv_and_xlsx_through_the_api(custody, head_office, slug):
    report = get_report(slug)
    client = APIClient()
    client.force_authenticate(head_office)
    rows = list(report.rows(parse_filters({}, head_office, options=report.options)))
    assert rows
    response = client.get(f"/api/reports/{slug}/", {"format": "csv"})
    assert response.status_code == 200
    table = list(csv.reader(io.StringIO(body(response).decode())))
    assert len(table) == len(rows) + 1
    assert table[1][0] == str(rows[0][0])
    response = client.get(f"/api/reports/{slug}/", {"format": "xlsx"})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(body(response))).active
    assert [c.value for c in sheet[1]] == [c.label for c in report.columns]
    assert sheet.max_row == len(rows) + 1


def test_a_customer_name_like_a_formula_is_escaped_in_the_csv(custody, head_office):
    Customer.objects.filter(code="C2").update(name="=HYPERLINK(1)")
    client = APIClient()
    client.force_authenticate(head_office)
    response = client.get("/api/reports/cylinders-held/", {"format": "csv"})
    assert "'=HYPERLINK(1)" in body(response).decode()
