"""Credit notes (#15): every void issues one, for the whole sale, numbered CN-YYYY-NNNNNN
gapless per year; the legacy voids get theirs from migration 0012; the admin shows them."""

import importlib
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.append_only import AppendOnlyError
from core.models import AuditLog, DocumentCounter
from sales.models import CreditNote, Transaction
from sales.services import sale_post, sale_void

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("sales.migrations.0012_credit_notes_receipts")


def sell(customer, rep, product, quantity=1):
    return sale_post(
        customer=customer,
        sales_rep=rep,
        actor=rep,
        lines=[{"product": product, "quantity": quantity, "empties_returned": 0}],
    )


def test_a_void_issues_one_credit_note_for_the_whole_sale(
    cash_customer, loaded_vehicle, products, manager
):
    sale = sell(cash_customer, loaded_vehicle, products["12.7KG"], 2)
    voided = sale_void(transaction=sale, actor=manager, reason="  wrong customer ")
    note = CreditNote.objects.get()
    year = timezone.localtime(voided.voided_at).year
    assert note.number == f"CN-{year}-000001"
    assert (note.transaction, note.amount, note.reason) == (
        sale,
        sale.total_amount,
        "wrong customer",
    )
    assert note.amount == Decimal("6000.00")
    assert (note.created_by, note.created_at) == (manager, voided.voided_at)
    assert voided.credit_note == note
    entry = AuditLog.objects.get(action="sale_void", object_id=str(sale.pk))
    assert entry.data["credit_note"] == note.number
    assert entry.data["amount"] == "6000.00"


def test_voiding_twice_is_refused_and_issues_no_second_credit_note(
    cash_customer, loaded_vehicle, products, manager
):
    sale = sell(cash_customer, loaded_vehicle, products["9KG"])
    sale_void(transaction=sale, actor=manager, reason="duplicate")
    with pytest.raises(ValidationError) as exc:
        sale_void(transaction=sale, actor=manager, reason="again")
    assert exc.value.code == "already_void"
    assert CreditNote.objects.count() == 1
    assert DocumentCounter.objects.get(series="CN").last_value == 1


def test_credit_notes_are_numbered_one_after_another(
    cash_customer, loaded_vehicle, products, manager
):
    sales = [sell(cash_customer, loaded_vehicle, products["9KG"]) for _ in range(3)]
    for sale in sales:
        sale_void(transaction=sale, actor=manager, reason="test")
    numbers = [sale.credit_note.number for sale in Transaction.objects.order_by("id")]
    assert [n[-6:] for n in numbers] == ["000001", "000002", "000003"]


def test_the_number_is_of_the_year_of_the_void(cash_customer, loaded_vehicle, products, manager):
    sale = sell(cash_customer, loaded_vehicle, products["9KG"])
    late = timezone.localtime(sale.created_at).replace(hour=23, minute=59)
    if late < sale.created_at:
        pytest.skip("the sale was posted in the day's last minute")
    voided = sale_void(transaction=sale, actor=manager, reason="test", at=late)
    assert voided.credit_note.number.startswith(f"CN-{late.year}-")
    assert voided.credit_note.created_at == late


def test_a_refused_void_issues_no_credit_note(cash_customer, loaded_vehicle, products, manager):
    first = sale_post(
        customer=cash_customer, sales_rep=loaded_vehicle, actor=loaded_vehicle, meter_reading="10"
    )
    sale_post(
        customer=cash_customer, sales_rep=loaded_vehicle, actor=loaded_vehicle, meter_reading="20"
    )
    with pytest.raises(ValidationError) as exc:
        sale_void(transaction=first, actor=manager, reason="test")
    assert exc.value.code == "later_meter_reading"
    assert not CreditNote.objects.exists()
    assert not DocumentCounter.objects.filter(series="CN").exists()


def test_a_credit_note_is_never_changed(cash_customer, loaded_vehicle, products, manager):
    sale = sale_void(
        transaction=sell(cash_customer, loaded_vehicle, products["9KG"]),
        actor=manager,
        reason="test",
    )
    note = sale.credit_note
    note.reason = "changed"
    with pytest.raises(AppendOnlyError):
        note.save()
    with pytest.raises(AppendOnlyError):
        CreditNote.objects.all().delete()


# --- Migration 0012: the legacy voids ---------------------------------------------------


def legacy_void(sale, *, at, by, reason):
    """A sale voided before credit notes existed: VOID, without one."""
    Transaction.objects.filter(pk=sale.pk).update(
        status="VOID", voided_at=at, voided_by=by, void_reason=reason
    )


def test_legacy_voids_get_credit_notes_in_the_year_of_their_void_in_void_order(
    cash_customer, loaded_vehicle, products, manager, monkeypatch
):
    monkeypatch.setattr(MIGRATION, "BATCH", 2)  # several batches
    zone = ZoneInfo("Asia/Colombo")
    sales = [sell(cash_customer, loaded_vehicle, products["9KG"]) for _ in range(5)]
    kept = sell(cash_customer, loaded_vehicle, products["9KG"])  # posted: no credit note
    moments = [
        datetime(2025, 12, 31, 23, 30, tzinfo=timezone.get_default_timezone()),
        datetime(2025, 3, 1, 10, 0, tzinfo=zone),
        datetime(2026, 1, 1, 0, 10, tzinfo=timezone.get_default_timezone()),
        datetime(2025, 6, 1, 10, 0, tzinfo=zone),
        datetime(2026, 2, 1, 10, 0, tzinfo=zone),
    ]
    for sale, moment in zip(sales, moments, strict=True):
        legacy_void(sale, at=moment, by=manager, reason="entered twice")
    legacy_void(sales[4], at=moments[4], by=None, reason="")

    MIGRATION.credit_notes_for_legacy_voids(apps, None)

    got = {n.transaction_id: n for n in CreditNote.objects.all()}
    assert set(got) == {s.pk for s in sales}
    assert kept.pk not in got
    assert [got[s.pk].number for s in sales] == [
        "CN-2025-000003",
        "CN-2025-000001",
        "CN-2026-000001",
        "CN-2025-000002",
        "CN-2026-000002",
    ]
    note = got[sales[0].pk]
    assert (note.amount, note.reason, note.created_by, note.created_at) == (
        sales[0].total_amount,
        "entered twice",
        manager,
        moments[0],
    )
    # No reason, no author recorded: said so, and the sale's creator.
    assert got[sales[4].pk].reason == MIGRATION.LEGACY_REASON
    assert got[sales[4].pk].created_by == loaded_vehicle
    counters = dict(DocumentCounter.objects.filter(series="CN").values_list("year", "last_value"))
    assert counters == {2025: 3, 2026: 2}

    # Run again (a migration re-run after a failure): nothing more, nothing renumbered.
    MIGRATION.credit_notes_for_legacy_voids(apps, None)
    assert CreditNote.objects.count() == 5

    # The next void continues the series of its year without a gap.
    fresh = sell(cash_customer, loaded_vehicle, products["9KG"])
    voided = sale_void(transaction=fresh, actor=manager, reason="test")
    year = timezone.localtime(voided.voided_at).year
    assert voided.credit_note.number == f"CN-{year}-{counters.get(year, 0) + 1:06d}"
