"""Rate-table import and export as an attacker or a hurried clerk meets them: a refused
file says why in one plain sentence per problem (never a traceback or a server path),
duplicate headings and oversized files are refused before any row is read, and the
export escapes text a spreadsheet would run as a formula."""

import io
import logging
from decimal import Decimal

import openpyxl
import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sales.models import Customer, Rate, RateImport
from sales.resources import COLUMNS, RateTableResource

pytestmark = pytest.mark.django_db

IMPORT_URL = "admin:sales_ratetable_import"


def upload(client, text, name="rates.csv"):
    file = SimpleUploadedFile(name, text.encode(), content_type="text/csv")
    return client.post(reverse(IMPORT_URL), {"resource": 0, "format": 0, "import_file": file})


def assert_plain(response):
    """The page shows the problem, and nothing of the server's inside."""
    body = response.content.decode()
    assert response.status_code == 200
    assert "Traceback" not in body
    assert 'File "/' not in body
    assert ".py" not in body
    assert response.context.get("confirm_form") is None  # nothing to confirm
    return body


@pytest.fixture
def clerk(client, head_office, settings):
    settings.DEBUG = False
    client.force_login(head_office)
    return client


@pytest.fixture
def two(customer_factory):
    return customer_factory(), customer_factory()


def test_a_missing_column_is_one_plain_message(clerk, two):
    a, _ = two
    headers = [c for c in COLUMNS if c != "14 kg rate"]
    body = assert_plain(upload(clerk, ",".join(headers) + f"\n{a.code},x,,1,,,,\n"))
    assert "The file has no column &#x27;14 kg rate&#x27;" in body
    assert body.count("errorlist") + body.count("<li") >= 1
    assert RateImport.objects.count() == 0


def test_a_duplicate_customer_is_one_plain_message(clerk, two):
    a, _ = two
    data = ",".join(COLUMNS) + f"\n{a.code},x,,1,,,,,\n{a.code},x,,2,,,,,\n"
    body = assert_plain(upload(clerk, data))
    assert f"A customer may appear once: {a.code} on rows 2, 3." in body
    assert Rate.objects.filter(batch__isnull=False).count() == 0


def test_a_duplicate_heading_is_refused_naming_it(clerk, two):
    a, _ = two
    headers = [*COLUMNS, "9KG "]  # the same heading again (case and spaces do not count)
    data = ",".join(headers) + f"\n{a.code},x,,1,,,,,,5\n"
    body = assert_plain(upload(clerk, data))
    assert "The column &#x27;9 kg rate&#x27; appears more than once (columns 4 and 10)" in body
    assert Rate.objects.filter(batch__isnull=False).count() == 0


def test_a_refused_file_reads_no_row_and_reports_only_its_problem(head_office, two):
    """Before: rows were still processed after a refused header, and each failed on the
    never-set self.changes (and after_import again)."""
    a, _ = two
    headers = [c for c in COLUMNS if c != "14 kg rate"]
    dataset = tablib.Dataset([a.code, "x", "", "1", "", "", "", ""], headers=headers)
    result = RateTableResource().import_data(dataset, dry_run=True, user=head_office)
    assert [str(m) for e in result.base_errors for m in e.error.messages] == [
        "The file has no column '14 kg rate'. Expected the columns: " + ", ".join(COLUMNS) + "."
    ]
    assert result.row_errors() == []
    assert result.rows == []


BOOM = 'File "/srv/hsh/sales/services/rates.py", line 9: boom'


@pytest.fixture
def rates_set_fails(monkeypatch):
    """rates_set fails (a bug, a database error) from its `after`-th call on."""
    import sales.resources

    real = sales.resources.rates_set
    calls = []

    def arm(after=0):
        def flaky(**kwargs):
            calls.append(1)
            if len(calls) > after:
                raise RuntimeError(BOOM)
            return real(**kwargs)

        monkeypatch.setattr(sales.resources, "rates_set", flaky)

    return arm


def test_an_unexpected_failure_is_plain_and_logged(clerk, two, rates_set_fails, caplog):
    rates_set_fails()
    a, _ = two
    with caplog.at_level(logging.ERROR, logger="sales.resources"):
        body = assert_plain(upload(clerk, ",".join(COLUMNS) + f"\n{a.code},x,,2999,,,,,\n"))
    assert "/srv/hsh" not in body
    assert "nothing was imported" in body
    assert any(r.exc_info and "boom" in str(r.exc_info[1]) for r in caplog.records)
    assert Rate.objects.filter(batch__isnull=False).count() == 0


def test_a_failure_at_confirm_is_not_reported_as_success(clerk, two, rates_set_fails):
    rates_set_fails(after=1)  # the dry run passes; the real import fails
    a, _ = two
    dry = upload(clerk, ",".join(COLUMNS) + f"\n{a.code},x,,2999,,,,,\n")
    confirm = dry.context["confirm_form"].initial
    done = clerk.post(reverse("admin:sales_ratetable_process_import"), confirm, follow=True)
    body = done.content.decode()
    assert "Traceback" not in body
    assert "/srv/hsh" not in body
    assert "nothing was imported" in body
    assert "Import finished" not in body
    assert Rate.objects.filter(batch__isnull=False).count() == 0


def test_a_file_over_the_row_limit_is_refused_before_any_row(clerk, two, settings, monkeypatch):
    settings.RATE_IMPORT_MAX_ROWS = 2
    a, b = two
    c = Customer.objects.create(code="C900", name="Third", depot=a.depot)
    rows_read = []
    real = RateTableResource.import_row
    monkeypatch.setattr(
        RateTableResource,
        "import_row",
        lambda self, *x, **k: rows_read.append(1) or real(self, *x, **k),
    )
    data = ",".join(COLUMNS) + "".join(f"\n{x.code},x,,1,,,,," for x in (a, b, c))
    body = assert_plain(upload(clerk, data))
    assert "This file has 3 customer rows; one import takes at most 2." in body
    assert "Split the file" in body
    assert rows_read == []
    assert RateImport.objects.count() == 0
    # At the limit it goes through.
    ok = upload(clerk, ",".join(COLUMNS) + f"\n{a.code},x,,1,,,,,\n{b.code},x,,1,,,,,")
    assert ok.context.get("confirm_form") is not None


def test_the_default_row_limit(settings):
    assert settings.RATE_IMPORT_MAX_ROWS == 5000


# --- Export ----------------------------------------------------------------------------


def export(client, fmt):
    fields = [
        "code",
        "name",
        "rate_BULK",
        "rate_9KG",
        "rate_12_7KG",
        "rate_14KG",
        "rate_50KG_POL",
        "rate_50KG_L",
        "effective_from",
    ]
    response = client.post(
        reverse("admin:sales_ratetable_export"),
        {"format": {"csv": 0, "xlsx": 1}[fmt], "resource": 0}
        | {f"ratetableresource_{f}": "on" for f in fields},
    )
    assert response.status_code == 200
    data = tablib.Dataset().load(
        response.content if fmt == "xlsx" else response.content.decode(), format=fmt
    )
    assert data["customer code"][-1] == "(list price)"  # the list prices, last
    del data[-1]
    return data


RISKY = ['=HYPERLINK("http://x")', "+1", "@SUM(1)", "-2+3", "\t=1"]


def renamed(customer, **fields):
    Customer.objects.filter(pk=customer.pk).update(**fields)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_rate_table_export_escapes_formulas(clerk, customer_factory, fmt):
    for name in RISKY:
        renamed(customer_factory(), name=name)
    data = export(clerk, fmt)
    assert sorted(data["name"]) == sorted("'" + n for n in RISKY)
    assert {f"{Decimal(str(rate)):.2f}" for rate in data["9 kg rate"]} == {
        "2200.00"
    }  # XLSX: numbers


def test_the_rate_table_xlsx_holds_no_formula(clerk, customer_factory):
    renamed(customer_factory(), name='=HYPERLINK("http://x")')
    response = clerk.post(
        reverse("admin:sales_ratetable_export"),
        {
            "format": 1,
            "resource": 0,
            "ratetableresource_code": "on",
            "ratetableresource_name": "on",
        },
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells), [(c.coordinate, c.value) for c in cells]


def test_an_escaped_customer_code_imports_back(clerk, customer_factory, head_office):
    renamed(customer_factory(), code="-X1")
    data = export(clerk, "csv")
    assert data["customer code"] == ["'-X1"]
    result = RateTableResource().import_data(data, dry_run=True, user=head_office)
    assert not result.has_errors()
    assert not result.has_validation_errors(), result.invalid_rows
    assert [r.import_type for r in result.rows] == ["skip"]


def test_a_confirm_posts_once_and_a_stale_one_says_so(clerk, two):
    """A double click, a re-sent page or a tampered/expired upload name: one import, and
    a plain message for the rest, never a server error."""
    a, _ = two
    dry = upload(clerk, ",".join(COLUMNS) + f"\n{a.code},x,,2999,,,,,\n")
    confirm = dry.context["confirm_form"].initial
    url = reverse("admin:sales_ratetable_process_import")
    first = clerk.post(url, confirm, follow=True)
    assert first.status_code == 200
    assert RateImport.objects.count() == 1
    for form in (confirm, {**confirm, "import_file_name": "0" * 32}):
        again = clerk.post(url, form, follow=True)
        assert again.status_code == 200
        assert "already imported, or its preview is too old" in again.content.decode()
    assert RateImport.objects.count() == 1
