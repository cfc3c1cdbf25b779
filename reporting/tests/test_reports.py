"""Each report's figures against the history worked out by hand in conftest.py."""

from decimal import Decimal

import pytest

from core.demo import days_ago
from reporting.catalogue import get_report
from reporting.filters import FilterError, parse_filters

pytestmark = pytest.mark.django_db

D40, D20, D10, D5 = (days_ago(n, 12).date() for n in (40, 20, 10, 5))


def run(slug, user, **params):
    report = get_report(slug)
    filters = parse_filters({k: str(v) for k, v in params.items()}, user, options=report.options)
    return list(report.rows(filters)), report.totals(filters)


def as_dicts(slug, rows):
    keys = get_report(slug).keys
    return [dict(zip(keys, row, strict=True)) for row in rows]


def test_sales_register(history, head_office):
    rows, totals = run("sales-register", head_office)
    slim = [
        (r["date"], r["customer_code"], r["product"], r["status"], r["quantity"], r["amount"])
        for r in as_dicts("sales-register", rows)
    ]
    assert sorted(slim) == sorted(
        [
            (D40, "C1", "12.7KG", "POSTED", Decimal("2"), Decimal("6000")),
            (D40, "C1", "BULK", "POSTED", Decimal("100"), Decimal("25000")),
            (D40, "C2", "12.7KG", "POSTED", Decimal("1"), Decimal("3100")),
            (D20, "C1", "BULK", "POSTED", Decimal("60"), Decimal("15000")),
            (D20, "C3", "12.7KG", "POSTED", Decimal("4"), Decimal("11600")),
            (D5, "C2", "12.7KG", "VOID", Decimal("3"), Decimal("9300")),
        ]
    )
    assert totals == {"amount": Decimal("60700")}  # cylinders and kg are not added


def test_sales_register_filters(history, head_office):
    rows, _ = run("sales-register", head_office, depot="SOUTH")
    assert [r[5] for r in rows] == ["C3"]
    rows, _ = run("sales-register", head_office, date_from=D20, date_to=D20, product="BULK")
    assert [(r[5], r[9]) for r in rows] == [("C1", Decimal("60"))]
    rows, _ = run("sales-register", head_office, payment_type="CASH")
    assert {r[5] for r in rows} == {"C2"}


def test_sales_summary_one_day_by_depot_and_by_product(history, head_office):
    rows, _ = run("sales-summary", head_office, date_from=D40, date_to=D40)
    month = D40.strftime("%Y-%m")
    assert rows == [
        (month, "NORTH", 2, 3, Decimal("100"), Decimal("3100"), Decimal("31000"), Decimal("34100"))
    ]
    rows, _ = run(
        "sales-summary", head_office, date_from=D40, date_to=D40, group_by="product", period="day"
    )
    assert rows == [
        (D40.isoformat(), "12.7KG", 2, 3, 0, Decimal("3100"), Decimal("6000"), Decimal("9100")),
        (D40.isoformat(), "BULK", 1, 0, Decimal("100"), 0, Decimal("25000"), Decimal("25000")),
    ]


def test_sales_summary_totals_skip_voids(history, head_office):
    _, totals = run("sales-summary", head_office, group_by="sales_rep")
    assert totals == {
        "sales": 4,
        "cylinders": 7,
        "meter_quantity": Decimal("160"),
        "cash": Decimal("3100"),
        "credit": Decimal("57600"),
        "amount": Decimal("60700"),
    }


def test_meter_sales(history, head_office):
    rows, totals = run("meter-sales", head_office)
    assert [(r[5], r[7], r[8], r[9], r[11]) for r in rows] == [  # newest first
        ("C1", Decimal("100"), Decimal("160"), Decimal("60"), Decimal("15000")),
        ("C1", Decimal("0"), Decimal("100"), Decimal("100"), Decimal("25000")),
    ]
    assert totals == {"quantity": Decimal("160"), "amount": Decimal("40000")}


def test_receivables_are_aged_after_oldest_first_settlement(history, head_office):
    rows, totals = run("receivables", head_office)
    assert [(r[0], r[4], r[5], r[6], r[7], r[8]) for r in rows] == [
        ("C1", Decimal("15000"), Decimal("11000"), 0, 0, Decimal("26000")),
        ("C3", Decimal("11600"), 0, 0, 0, Decimal("11600")),
    ]
    assert totals["total_due"] == Decimal("37600")


def test_stock_position_now_and_at_a_past_date(history, head_office):
    rows, totals = run("stock-position", head_office)
    assert rows == [
        ("NORTH", "depot NORTH", "12.7KG", 40, 3),
        (
            "NORTH",
            f"vehicle {history['c1'].depot.staff.get(username='northrep').vehicle_no} (northrep)",
            "12.7KG",
            7,
            0,
        ),
        ("SOUTH", "depot SOUTH", "12.7KG", 16, 0),
        ("SOUTH", f"vehicle {history['rep2'].vehicle_no} (southrep)", "12.7KG", 0, 4),
    ]
    assert totals == {"full": 63, "empty": 7}
    rows, _ = run("stock-position", head_office, date_to=D20, depot="NORTH")
    assert [(r[1].split()[0], r[3], r[4]) for r in rows] == [("depot", 40, 0), ("vehicle", 7, 3)]


def test_stock_ledger_with_opening_running_and_closing_balances(history, head_office):
    rows, _ = run("stock-ledger", head_office, sales_rep="northrep", date_from=D5)
    full = [(r[4], r[6], r[7], r[8]) for r in rows if r[2] == "FULL"]
    assert full == [
        ("OPENING", None, None, 7),
        ("SALE", None, 3, 4),
        ("VOID", 3, None, 7),
        ("CLOSING", None, None, 7),
    ]
    empty = [(r[4], r[6], r[7], r[8]) for r in rows if r[2] == "EMPTY"]
    assert empty == [
        ("OPENING", None, None, 3),
        ("SALE", 2, None, 5),
        ("VOID", None, 2, 3),
        ("EMPTY_RETURN", None, 3, 0),
        ("CLOSING", None, None, 0),
    ]


def test_vehicle_reconciliation_flags_what_the_documents_do_not_explain(history, head_office):
    rows, _ = run("vehicle-reconciliation", head_office, sales_rep="northrep")
    table = {(r[0], r[4]): r[5:] for r in rows}
    # opening, collected, sold, returned, closing, difference, flag
    assert table[(D40, "FULL")] == (0, 10, 3, 0, 7, 0, "")
    assert table[(D40, "EMPTY")] == (0, 3, 0, 0, 3, 0, "")
    assert table[(D5, "FULL")] == (7, 0, 3, 0, 7, 3, "CHECK")  # the void put 3 back
    assert table[(D5, "EMPTY")] == (3, 2, 0, 3, 0, -2, "CHECK")


def test_audit_trail_filters_by_customer(history, head_office):
    rows, _ = run("audit-trail", head_office, customer="C1")
    assert sorted(r[3] for r in rows) == [
        "Payment recorded",
        "Rate set",
        "Rate set",
        "Sale posted",
        "Sale posted",
    ]


def test_a_manager_sees_only_their_depots(history, manager):
    rows, _ = run("sales-register", manager)
    assert {r[3] for r in rows} == {"NORTH"}
    rows, _ = run("stock-position", manager)
    assert {r[0] for r in rows} == {"NORTH"}
    rows, _ = run("receivables", manager)
    assert [r[0] for r in rows] == ["C1"]


@pytest.mark.parametrize(
    ("params", "name", "text"),
    [
        ({"date_from": "yesterday"}, "date_from", "YYYY-MM-DD"),
        (
            {"date_from": "2026-02-01", "date_to": "2026-01-01"},
            "date_to",
            "'Date to' is before 'Date from'.",
        ),
        ({"depot": "MARS"}, "depot", "No depot 'MARS'"),
        ({"depot": "SOUTH"}, "depot", "You do not work for depot SOUTH"),
        ({"sales_rep": "nobody"}, "sales_rep", "No sales representative"),
        ({"sales_rep": "southrep"}, "sales_rep", "does not work in your depots"),
        ({"customer": "C3"}, "customer", "not in your depots"),
        ({"product": "20KG"}, "product", "No product"),
        ({"payment_type": "BARTER"}, "payment_type", "Use Cash or Credit"),
        ({"group_by": "colour"}, "group_by", "one of Depot, Representative, Product"),
        ({"colour": "red"}, "colour", "Unknown filter"),
    ],
)
def test_bad_filters_are_named(history, manager, params, name, text):
    report = get_report("sales-summary")
    with pytest.raises(FilterError) as exc:
        parse_filters(params, manager, options=report.options)
    assert text in exc.value.errors[name]


def test_sales_representatives_get_no_reports(history, sales_rep):
    with pytest.raises(FilterError):
        parse_filters({}, sales_rep)


@pytest.mark.parametrize("group_by", ["depot", "sales_rep"])
@pytest.mark.parametrize("period", ["month", "day"])
def test_sales_summary_from_sales_agrees_with_the_lines(history, head_office, group_by, period):
    """By depot or representative the summary reads the figures each sale got at posting;
    they must be what its lines and meter reading add up to."""
    report = get_report("sales-summary")
    f = parse_filters({"group_by": group_by, "period": period}, head_office, options=report.options)
    from_sales = list(report._rows_from_sales(f))
    assert from_sales == list(report._rows_from_lines(f))
    assert sum(row[2] for row in from_sales) == 4  # the four posted sales, voids left out
