"""The rate table with services and list prices: a service is a column like a cylinder
(headed by its code, optional in a file), the last row "(list price)" holds the list
prices; both round-trip through CSV and XLSX, the XLSX with number cells."""

import io
from decimal import Decimal

import openpyxl
import pytest
import tablib
from django.urls import reverse

from core.models import AuditLog
from sales.models import Rate
from sales.resources import COLUMNS, LIST_PRICE_CODE, RateTableResource, rate_attribute
from sales.selectors import rate_in_force
from sales.services import rate_set
from stock.models import Product, ProductKind
from stock.services import product_create, product_update

pytestmark = pytest.mark.django_db

HEADERS = [*COLUMNS[:-1], "INSTALL", COLUMNS[-1]]
CODES = ["BULK", "9KG", "12.7KG", "14KG", "50KG-POL", "50KG-L", "INSTALL"]


@pytest.fixture
def install(head_office):
    return product_create(
        code="INSTALL",
        name="Installation",
        kind=ProductKind.SERVICE,
        actor=head_office,
        list_price="1500.00",
    )


def run(dataset, user, dry_run=False):
    return RateTableResource().import_data(
        dataset, dry_run=dry_run, use_transactions=True, user=user, file_name="rates.csv"
    )


def problems(result):
    return [e.message for e in result.base_errors] + [
        m for row in result.invalid_rows for ms in row.error_dict.values() for m in ms
    ]


def test_export_has_a_service_column_and_the_list_price_row(
    customer_factory, head_office, install, products
):
    product_update(product=products["9KG"], actor=head_office, data={"list_price": "2850"})
    a = customer_factory(rates={"9KG": "2200.00"})
    rate_set(customer=a, product=install, rate="1200.00", actor=head_office)
    exported = RateTableResource().export()
    assert exported.headers == HEADERS
    rows = exported.dict
    assert [r["customer code"] for r in rows] == [a.code, LIST_PRICE_CODE]
    assert (rows[0]["9 kg rate"], rows[0]["INSTALL"]) == ("2200.00", "1200.00")
    assert (rows[1]["9 kg rate"], rows[1]["INSTALL"], rows[1]["14 kg rate"]) == (
        "2850.00",
        "1500.00",
        "",
    )
    assert rows[1]["name"].startswith("List price")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_service_rate_and_list_prices_round_trip(
    customer_factory, head_office, install, products, fmt
):
    a = customer_factory()
    exported = RateTableResource().export()
    again = tablib.Dataset().load(exported.export(fmt), format=fmt)
    assert {r.import_type for r in run(again, head_office).rows} == {"skip"}  # unchanged
    again = tablib.Dataset().load(exported.export(fmt), format=fmt)
    again[0] = [a.code, a.name, "", "", "", "", "", "", "1250.00", ""]
    list_row = list(again[1])
    list_row[COLUMNS.index("14 kg rate")] = "4390"
    list_row[HEADERS.index("INSTALL")] = "1600.00"
    again[1] = list_row
    result = run(again, head_office)
    assert not result.has_errors()
    assert not result.has_validation_errors(), problems(result)
    assert [r.import_type for r in result.rows] == ["update", "update"]
    assert rate_in_force(customer=a, product=install) == Decimal("1250.00")
    assert Rate.objects.get(customer=a, product=install).batch is not None
    assert Product.objects.get(code="14KG").list_price == Decimal("4390.00")
    assert Product.objects.get(code="INSTALL").list_price == Decimal("1600.00")
    changes = [e.data["changes"] for e in AuditLog.objects.filter(action="product_update")]
    assert {"list_price": {"old": "1500.00", "new": "1600.00"}} in changes
    assert {"list_price": {"old": None, "new": "4390.00"}} in changes


def test_a_dry_run_changes_no_list_price(customer_factory, head_office, install):
    customer_factory()
    exported = RateTableResource().export()
    row = list(exported[1])
    row[HEADERS.index("INSTALL")] = "9.99"
    exported[1] = row
    result = run(exported, head_office, dry_run=True)
    assert [r.import_type for r in result.rows] == ["skip", "update"]
    assert Product.objects.get(code="INSTALL").list_price == Decimal("1500.00")


def test_a_file_without_the_service_column_still_imports(customer_factory, head_office, install):
    a = customer_factory()
    data = tablib.Dataset([a.code, a.name, "", "2300", "", "", "", "", ""], headers=COLUMNS)
    result = run(data, head_office)
    assert not result.has_validation_errors(), problems(result)
    assert Rate.objects.filter(customer=a, product=install).count() == 0


def test_a_manager_cannot_change_list_prices_but_may_reimport_them(
    customer_factory, manager, install
):
    customer_factory()
    exported = RateTableResource().export()
    assert {r.import_type for r in run(exported, manager).rows} == {"skip"}
    row = list(exported[1])
    row[HEADERS.index("INSTALL")] = "1.00"
    exported[1] = row
    result = run(exported, manager)
    assert problems(result) == [
        "List prices are set by head office: leave the list price row as exported."
    ]
    assert Product.objects.get(code="INSTALL").list_price == Decimal("1500.00")


def test_list_prices_take_no_date_and_no_bad_amount(customer_factory, head_office, install):
    customer_factory()
    exported = RateTableResource().export()
    row = list(exported[1])
    row[HEADERS.index("INSTALL")] = "1.00"
    row[-1] = "2030-01-01"
    exported[1] = row
    result = run(exported, head_office)
    assert problems(result) == [
        "List prices apply at once: leave 'effective from' empty on this row."
    ]
    row[-1] = ""
    row[HEADERS.index("INSTALL")] = "-1"
    exported[1] = row
    result = run(exported, head_office)
    assert result.has_validation_errors()
    assert Product.objects.get(code="INSTALL").list_price == Decimal("1500.00")


def test_the_list_price_row_appears_once(customer_factory, head_office, install):
    customer_factory()
    exported = RateTableResource().export()
    exported.append(list(exported[1]))
    result = run(exported, head_office)
    assert result.has_errors()
    assert f"{LIST_PRICE_CODE} on rows 3, 4" in result.base_errors[0].message


def test_the_admin_xlsx_export_writes_rates_as_numbers(
    client, head_office, customer_factory, install, products
):
    product_update(product=products["9KG"], actor=head_office, data={"list_price": "2850.50"})
    customer_factory()
    client.force_login(head_office)
    fields = ["code", "name", *(rate_attribute(c) for c in CODES), "effective_from"]
    response = client.post(
        reverse("admin:sales_ratetable_export"),
        {"format": 1, "resource": 0} | {f"ratetableresource_{f}": "on" for f in fields},
    )
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS
    nine = HEADERS.index("9 kg rate")
    assert rows[1][nine] == 2200
    assert isinstance(rows[1][nine], (int, float))
    assert rows[2][0] == LIST_PRICE_CODE
    assert rows[2][nine] == 2850.5
    assert rows[2][HEADERS.index("INSTALL")] == 1500


def test_the_rate_table_list_shows_the_service_column(
    client, head_office, customer_factory, install
):
    a = customer_factory()
    rate_set(customer=a, product=install, rate="1200.00", actor=head_office)
    client.force_login(head_office)
    page = client.get(reverse("admin:sales_ratetable_changelist"))
    text = page.content.decode()
    assert "Installation rate" in text  # headed by its name (the spreadsheet: its code)
    assert "1,200.00" in text


def test_the_import_page_previews_and_confirms_a_list_price_row(
    client, head_office, customer_factory, install
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    a = customer_factory()
    text = (
        ",".join(HEADERS)
        + f"\n{a.code},{a.name},,,,,,,1300.00,\n"
        + f"{LIST_PRICE_CODE},List price,,,,,,,1750.00,\n"
    )
    client.force_login(head_office)
    file = SimpleUploadedFile("rates.csv", text.encode(), content_type="text/csv")
    preview = client.post(
        reverse("admin:sales_ratetable_import"), {"resource": 0, "format": 0, "import_file": file}
    )
    assert preview.status_code == 200
    assert preview.context["confirm_form"] is not None
    body = preview.content.decode()
    assert LIST_PRICE_CODE in body  # the row, with its changes shown as any other
    assert [r.import_type for r in preview.context["result"].rows] == ["update", "update"]
    assert Product.objects.get(code="INSTALL").list_price == Decimal("1500.00")  # a preview
    confirm = preview.context["confirm_form"].initial
    done = client.post(reverse("admin:sales_ratetable_process_import"), confirm, follow=True)
    assert done.status_code == 200
    assert Product.objects.get(code="INSTALL").list_price == Decimal("1750.00")
    assert rate_in_force(customer=a, product=install) == Decimal("1300.00")
