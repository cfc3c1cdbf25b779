"""Formula injection: text that a spreadsheet would run (=, +, -, @, tab, CR first) is
written with a leading quote in every CSV and XLSX export; numbers stay numbers."""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.db.models import DecimalField, IntegerField, Value
from django.urls import reverse

from core.spreadsheets import spreadsheet_text
from reporting.catalogue import Column, Report
from reporting.filters import parse_filters
from reporting.writers import csv_chunks, write_xlsx
from sales.models import Customer
from sales.services import rate_set, sale_post
from stock.models import Product
from stock.services import distribution_create, stock_adjust, stock_receive

pytestmark = pytest.mark.django_db

RISKY = ['=HYPERLINK("http://x")', "+1", "@SUM(1)", "-2+3", "\t=1+1", "\r=1+1"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def risky(north, head_office, sales_rep):
    cyl = Product.objects.get(code="12.7KG")
    bulk = Product.objects.get(code="BULK")
    stock_receive(
        depot=north, product=cyl, quantity=50, actor=head_office, note='=HYPERLINK("http://x")'
    )
    stock_adjust(
        product=cyl, state="FULL", counted=45, reason="-2+3", actor=head_office, depot=north
    )
    distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=20,
        kind="COLLECTION",
        actor=sales_rep,
    )
    for n, name in enumerate(RISKY, start=1):
        customer = Customer.objects.create(
            code=f"R{n}", name=name, depot=north, payment_type="CREDIT"
        )
        rate_set(customer=customer, product=cyl, rate="3000", actor=head_office)
        rate_set(customer=customer, product=bulk, rate="250", actor=head_office)
        sale_post(
            customer=customer,
            sales_rep=sales_rep,
            actor=sales_rep,
            lines=[{"product": cyl, "quantity": 1}],
            meter_reading="10",
        )
    return RISKY


def download(client, slug, fmt):
    url = reverse("reports:report", args=[slug]) + f"?format={fmt}"
    response = client.get(url)
    assert response.status_code == 200, response.content
    data = b"".join(response.streaming_content)
    if fmt == "csv":
        return list(csv.reader(io.StringIO(data.decode())))[1:]
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", f"{cell.coordinate} is a formula: {cell.value!r}"
    return [[_xlsx_text(c.value) for c in row] for row in sheet.iter_rows(min_row=2)]


def _xlsx_text(value):
    # XLSX stores a carriage return as _x000D_ (Excel shows it as one; openpyxl does not).
    return value.replace("_x000D_", "\r") if isinstance(value, str) else value


def assert_no_formula(rows):
    for row in rows:
        for value in row:
            if isinstance(value, str):
                assert not value.startswith(FORMULA_START), (value, row)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(
    ("slug", "column"),
    [("sales-register", 6), ("meter-sales", 6), ("receivables", 1)],
)
def test_customer_names_are_escaped(client, head_office, risky, slug, column, fmt):
    client.force_login(head_office)
    rows = download(client, slug, fmt)
    assert_no_formula(rows)
    assert {r[column] for r in rows} == {"'" + name for name in risky}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_receipt_note_and_a_reference_in_the_stock_ledger(client, head_office, risky, fmt):
    client.force_login(head_office)
    rows = download(client, "stock-ledger", fmt)
    assert_no_formula(rows)
    references = {r[5] for r in rows}
    assert {'\'=HYPERLINK("http://x")', "'-2+3"} <= references


def test_amounts_stay_numbers(client, head_office, risky):
    client.force_login(head_office)
    rows = download(client, "sales-register", "xlsx")
    assert {type(r[12]) for r in rows} <= {int, float}
    rows = download(client, "sales-register", "csv")
    assert {r[12] for r in rows} == {"3000.00", "2500.00"}


# --- The writers themselves, with negative numbers ------------------------------------


class Mixed(Report):
    """A text column and numbers of every kind, some negative; flat SQL (COPY-able)."""

    slug = "test-mixed"
    title = "Mixed"
    copy_safe = True
    columns = (
        Column("code", "Code"),
        Column("name", "Name"),
        Column("count", "Count"),
        Column("amount", "Amount"),
    )

    def queryset(self, f):
        return (
            Customer.objects.annotate(
                count=Value(-5, output_field=IntegerField()),
                amount=Value(
                    Decimal("-12.50"), output_field=DecimalField(max_digits=14, decimal_places=2)
                ),
            )
            .values("code", "name", "count", "amount")
            .order_by("code")
        )


@pytest.fixture
def mixed(north, head_office):
    for n, name in enumerate(RISKY, start=1):
        Customer.objects.create(code=f"M{n}", name=name, depot=north)
    Customer.objects.create(code="M9", name="Plain 'quoted' name", depot=north)
    return Mixed(), parse_filters({}, head_office)


def test_csv_escapes_text_and_leaves_negative_numbers(mixed):
    report, filters = mixed
    text = b"".join(csv_chunks(report, filters)).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Code", "Name", "Count", "Amount"]  # the columns' headings
    assert [r[1] for r in rows[1:]] == ["'" + n for n in RISKY] + ["Plain 'quoted' name"]
    assert {(r[2], r[3]) for r in rows[1:]} == {("-5", "-12.50")}


@pytest.mark.postgres
def test_the_copy_path_escapes_in_sql(mixed, monkeypatch):
    """On PostgreSQL a flat report streams through COPY: the same escaping, in SQL."""
    import reporting.writers as writers

    used = []
    real = writers._copy_chunks
    monkeypatch.setattr(writers, "_copy_chunks", lambda *a: used.append(1) or real(*a))
    test_csv_escapes_text_and_leaves_negative_numbers(mixed)
    assert used


def test_xlsx_escapes_text_and_keeps_numbers(mixed, tmp_path):
    report, filters = mixed
    path = tmp_path / "mixed.xlsx"
    write_xlsx(report, filters, str(path))
    sheet = openpyxl.load_workbook(path).active
    rows = [[_xlsx_text(c.value) for c in row] for row in sheet.iter_rows(min_row=2)]
    assert [r[1] for r in rows] == ["'" + n for n in RISKY] + ["Plain 'quoted' name"]
    assert {(r[2], r[3]) for r in rows} == {(-5, -12.5)}


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+94 11 234 5678", "'+94 11 234 5678"),
        ("-", "'-"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("", ""),
        ("Hotel = Inn", "Hotel = Inn"),
        ("'=already", "'=already"),
    ],
)
def test_spreadsheet_text(value, shown):
    assert spreadsheet_text(value) == shown
