"""The wide rate table in and out: CSV and XLSX, dry run, all-or-nothing, undo."""

from datetime import timedelta
from decimal import Decimal

import pytest
import tablib
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.models import AuditLog
from sales.models import Rate, RateImport
from sales.resources import COLUMNS, RateTableResource
from sales.selectors import rate_in_force
from sales.services import rate_import_undo, rate_set

pytestmark = pytest.mark.django_db

NEXT_WEEK = (timezone.localdate() + timedelta(days=7)).isoformat()


def table(*rows, headers=COLUMNS):
    return tablib.Dataset(*rows, headers=headers)


def run(dataset, user, dry_run=False):
    return RateTableResource().import_data(
        dataset, dry_run=dry_run, use_transactions=True, user=user, file_name="rates.csv"
    )


@pytest.fixture
def two_customers(customer_factory):
    return customer_factory(), customer_factory()


def test_import_creates_versions_through_rate_set(two_customers, head_office, products):
    a, b = two_customers
    result = run(
        table(
            [a.code, a.name, "260", "2300", "3100", "", "", "", NEXT_WEEK],
            [b.code, b.name, "", "", "", "", "", "", ""],
        ),
        head_office,
    )
    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert [r.import_type for r in result.rows] == ["update", "skip"]
    batch = RateImport.objects.get()
    assert (batch.created_by, batch.file_name) == (head_office, "rates.csv")
    imported = Rate.objects.filter(batch=batch)
    assert {(r.product.code, r.rate) for r in imported} == {
        ("BULK", Decimal("260.00")),
        ("9KG", Decimal("2300.00")),
        ("12.7KG", Decimal("3100.00")),
    }
    assert (
        AuditLog.objects.filter(action="rate_set", actor=head_office, data__batch=batch.pk).count()
        == 3
    )
    assert {h.history_user for r in imported for h in r.history.all()} == {head_office}
    # Effective from next week: today's rate is untouched.
    assert rate_in_force(customer=a, product=products["9KG"]) == Decimal("2200.00")


def test_dry_run_writes_nothing_and_shows_old_and_new(two_customers, head_office):
    a, _ = two_customers
    before = (Rate.objects.count(), RateImport.objects.count(), AuditLog.objects.count())
    result = run(table([a.code, a.name, "", "2999", "", "", "", "", ""]), head_office, dry_run=True)
    assert (Rate.objects.count(), RateImport.objects.count(), AuditLog.objects.count()) == before
    nine_kg = result.rows[0].diff[3]  # customer code, name, meter rate, 9kg, ...
    assert nine_kg == (
        '<span>2</span><del style="background:#ffe6e6;">200</del>'
        '<ins style="background:#e6ffe6;">999</ins><span>.00</span>'
    )


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (["C999", "Nobody", "1", "", "", "", "", "", ""], "Unknown customer 'C999'"),
        (["", "Nobody", "1", "", "", "", "", "", ""], "customer code is empty"),
        (["{a}", "x", "-5", "", "", "", "", "", ""], "Must be 0 or more; got -5"),
        (["{a}", "x", "", "abc", "", "", "", "", ""], "Enter an amount"),
        (["{a}", "x", "", "1", "", "", "", "", "31/02/2026"], "31/02/2026 does not exist"),
        (["{a}", "x", "", "1", "", "", "", "", "tomorrow"], "Enter a date"),
    ],
)
def test_one_bad_row_refuses_the_whole_file(two_customers, head_office, row, message):
    a, b = two_customers
    row = [cell.replace("{a}", a.code) for cell in row]
    before = Rate.objects.count()
    result = run(table([b.code, b.name, "1", "1", "1", "1", "1", "1", ""], row), head_office)
    assert result.has_validation_errors()
    errors = " ".join(
        str(m) for invalid in result.invalid_rows for m in invalid.error.messages
    ) + " ".join(str(e.error) for e in result.base_errors)
    assert message in errors
    assert Rate.objects.count() == before  # b's valid row was rolled back too
    assert RateImport.objects.count() == 0


def test_missing_column_is_named(two_customers, head_office):
    a, _ = two_customers
    headers = [c for c in COLUMNS if c != "14 kg rate"]
    result = run(table([a.code, a.name, "1", "1", "1", "1", "1", ""], headers=headers), head_office)
    assert result.has_errors()
    assert "no column '14 kg rate'" in str(result.base_errors[0].error)
    assert Rate.objects.filter(batch__isnull=False).count() == 0


def test_headings_match_without_regard_to_case(two_customers, head_office, products):
    a, _ = two_customers
    headers = [c.upper() for c in COLUMNS]
    result = run(
        table([a.code, a.name, "", "2500", "", "", "", "", ""], headers=headers), head_office
    )
    assert not result.has_validation_errors(), result.invalid_rows
    assert rate_in_force(customer=a, product=products["9KG"]) == Decimal("2500.00")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_round_trips(two_customers, head_office, fmt):
    a, _b = two_customers
    exported = RateTableResource().export()
    assert exported.headers == COLUMNS
    row = dict(zip(exported.headers, exported.dict[0].values(), strict=True))
    assert (row["customer code"], row["9 kg rate"], row["14 kg rate"]) == (a.code, "2200.00", "")
    data = exported.export(fmt)
    again = tablib.Dataset().load(data, format=fmt)
    result = run(again, head_office)
    assert not result.has_validation_errors()
    assert {r.import_type for r in result.rows} == {"skip"}  # nothing changed
    assert RateImport.objects.count() == 0


def test_undo_restores_the_previous_rates_with_new_versions(two_customers, head_office, products):
    a, b = two_customers
    run(
        table(
            [a.code, a.name, "", "2500", "3500", "", "", "", ""],
            [b.code, b.name, "", "", "", "900", "", "", ""],
        ),
        head_office,
    )
    batch = RateImport.objects.get()
    rate_set(customer=a, product=products["12.7KG"], rate="3600", actor=head_office)
    total_before = Rate.objects.count()
    undo = rate_import_undo(batch=batch, actor=head_office)
    assert rate_in_force(customer=a, product=products["9KG"]) == Decimal("2200.00")
    assert rate_in_force(customer=a, product=products["12.7KG"]) == Decimal("3600.00")  # kept
    with pytest.raises(ValidationError, match="No rate for 14KG"):
        rate_in_force(customer=b, product=products["14KG"])  # there was none before
    assert Rate.objects.count() == total_before + 2  # history only grows
    assert undo.rates.count() == 2
    with pytest.raises(ValidationError, match="already been undone"):
        rate_import_undo(batch=batch, actor=head_office)


def test_a_backdated_rate_that_would_never_apply_refuses_the_file(two_customers, head_office):
    """Checked by rates_set when the file's rates are written: the refusal names the
    customer and product, and nothing of the file is written."""
    a, b = two_customers  # both have rates set just now, in force already
    last_week = (timezone.localdate() - timedelta(days=7)).isoformat()
    before = Rate.objects.count()
    result = run(
        table(
            [b.code, b.name, "", "2300", "", "", "", "", ""],
            [a.code, a.name, "", "2400", "", "", "", "", last_week],
        ),
        head_office,
    )
    assert result.has_errors()
    errors = " ".join(str(e.error) for e in result.base_errors)
    assert f"would never apply: customer {a.code}'s rate" in errors
    assert "9KG" in errors
    assert Rate.objects.count() == before
    assert RateImport.objects.count() == 0


def test_undo_restores_even_when_a_future_rise_was_set_before(cash_customer, products, head_office):
    nine = products["9KG"]
    rate_set(
        customer=cash_customer,
        product=nine,
        rate="2600",
        actor=head_office,
        effective_from=timezone.localdate() + timedelta(days=20),
    )
    run(table([cash_customer.code, "", "", "9999", "", "", "", "", ""]), head_office)
    assert rate_in_force(customer=cash_customer, product=nine) == Decimal("9999.00")
    rate_import_undo(batch=RateImport.objects.get(), actor=head_office)
    assert rate_in_force(customer=cash_customer, product=nine) == Decimal("2200.00")
    later = timezone.now() + timedelta(days=21)
    assert rate_in_force(customer=cash_customer, product=nine, at=later) == Decimal("2600.00")


def test_undo_of_a_future_import_then_a_later_change(cash_customer, products, head_office):
    nine = products["9KG"]
    first = (timezone.localdate() + timedelta(days=10)).isoformat()
    run(table([cash_customer.code, "", "", "3000", "", "", "", "", first]), head_office)
    rate_set(
        customer=cash_customer,
        product=nine,
        rate="3100",
        actor=head_office,
        effective_from=timezone.localdate() + timedelta(days=15),
    )
    rate_import_undo(batch=RateImport.objects.get(), actor=head_office)
    at = timezone.now()
    assert rate_in_force(
        customer=cash_customer, product=nine, at=at + timedelta(days=12)
    ) == Decimal("2200.00")
    assert rate_in_force(
        customer=cash_customer, product=nine, at=at + timedelta(days=16)
    ) == Decimal("3100.00")


def test_a_customer_twice_in_one_file_is_refused(cash_customer, head_office):
    result = run(
        table(
            [cash_customer.code, "", "", "3000", "", "", "", "", ""],
            [cash_customer.code, "", "", "3100", "", "", "", "", ""],
        ),
        head_office,
    )
    assert result.has_errors()
    assert f"{cash_customer.code} on rows 2, 3" in str(result.base_errors[0].error)
    assert Rate.objects.filter(batch__isnull=False).count() == 0


def test_xlsx_number_cells_with_cents(cash_customer, products, head_office):
    data = tablib.Dataset(headers=COLUMNS)
    data.append([cash_customer.code, "", None, 2300.5, None, None, None, None, None])
    again = tablib.Dataset().load(data.export("xlsx"), format="xlsx")
    result = run(again, head_office)
    assert not result.has_validation_errors(), [r.error for r in result.invalid_rows]
    assert rate_in_force(customer=cash_customer, product=products["9KG"]) == Decimal("2300.50")
