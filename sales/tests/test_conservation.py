"""check_stock proves invariant 11: each holding equals the replay of its ledger and never
went below zero, and per cylinder product depots + vehicles + customers equal receipts -
plant dispatches + adjustments - write-offs. Each kind of difference is named, with its
figures, and makes the command fail. Tampering goes behind the application's back (raw
SQL, the append-only triggers off as a database superuser could)."""

import pytest
from django.core.management import call_command
from django.db import connection

from core.tests.audit_helpers import as_superuser
from sales.conservation import conservation_check, holdings_check
from sales.models import CylinderHolding, HoldingEntry
from sales.services import sale_post
from stock.checks_registry import stock_checks
from stock.models import StockMovement
from stock.services import empties_dispatch, stock_write_off

pytestmark = pytest.mark.django_db


@pytest.fixture
def custody(loaded_vehicle, cash_customer, products, head_office, north):
    """NORTH received 100 12.7KG and 100 9KG (20 and 10 on the vehicle); the customer
    bought 3 12.7KG handing back 1 empty (holds 2), and 2 9KG for 2 empties (holds 0)."""
    sale_post(
        customer=cash_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[
            {"product": products["12.7KG"], "quantity": 3, "empties_returned": 1},
            {"product": products["9KG"], "quantity": 2, "empties_returned": 2},
        ],
    )
    return cash_customer


def _check(capsys):
    """check_stock's exit status, stdout and stderr."""
    try:
        call_command("check_stock")
        status = 0
    except SystemExit as exc:
        status = exc.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _holding(customer, products, code="12.7KG"):
    return CylinderHolding.objects.get(customer=customer, product=products[code])


def test_sales_registers_its_checks_with_stock():
    assert holdings_check in stock_checks
    assert conservation_check in stock_checks


def test_a_sound_database_passes(custody, capsys):
    status, out, err = _check(capsys)
    assert status == 0, out + err
    assert "All 2 cylinder holdings match their ledger." in out
    assert "Cylinders are conserved for all" in out
    assert err == ""


def test_dispatches_and_write_offs_leave_the_books_balanced(
    custody, products, head_office, north, loaded_vehicle, capsys
):
    """Cylinders that leave (to the plant, written off) leave on both sides."""
    from stock.services import distribution_create

    distribution_create(
        sales_rep=loaded_vehicle,
        depot=north,
        product=products["12.7KG"],
        quantity=1,
        kind="EMPTY_RETURN",
        actor=head_office,
    )
    empties_dispatch(
        depot=north, product=products["12.7KG"], quantity=1, actor=head_office, reference="DN-1"
    )
    stock_write_off(
        depot=north,
        product=products["9KG"],
        state="FULL",
        quantity=2,
        cause="DAMAGED",
        reason="dropped off the forklift",
        actor=head_office,
    )
    assert _check(capsys)[0] == 0


def test_a_holding_that_disagrees_with_its_ledger_is_named(custody, products, capsys):
    holding = _holding(custody, products)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE sales_cylinderholding SET quantity = 5 WHERE id = %s", [holding.pk])
    status, out, err = _check(capsys)
    assert status == 1
    assert (
        f"HOLDING C001 12.7KG: holding says 5 cylinders, deposit 0.00; its ledger (1 entries) "
        f"says 2 cylinders, deposit 0.00 (holding id {holding.pk})"
    ) in out
    # and the three cylinders it invented are not accounted for
    assert "CONSERVATION 12.7KG: depots 80 + vehicles 18 + customers 5 = 103" in out
    assert "= 100: 3 more than accounted for" in out
    assert "1 differences in 2 cylinder holdings and their ledger." in err
    assert "Cylinders are not conserved for 1 of" in err


def test_a_deposit_that_disagrees_with_its_ledger_is_named(custody, products, capsys):
    holding = _holding(custody, products, "9KG")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sales_cylinderholding SET deposit_held = 150 WHERE id = %s", [holding.pk]
        )
    status, out, _err = _check(capsys)
    assert status == 1
    assert (
        "HOLDING C001 9KG: holding says 0 cylinders, deposit 150.00; its ledger (1 entries) "
        "says 0 cylinders, deposit 0.00"
    ) in out
    assert "CONSERVATION" not in out  # no cylinder moved


def test_a_changed_ledger_entry_is_named_on_both_sides(custody, products, capsys):
    entry = HoldingEntry.objects.get(customer=custody, product=products["12.7KG"])
    as_superuser(("UPDATE sales_holdingentry SET quantity = 4 WHERE id = %s", [entry.pk]))
    status, out, _err = _check(capsys)
    assert status == 1
    assert "HOLDING C001 12.7KG: holding says 2 cylinders, deposit 0.00; its ledger" in out
    assert "says 4 cylinders" in out
    assert (
        "CONSERVATION 12.7KG: the stock ledger's sales, voids and returns moved 2 cylinders "
        "to customers, but the holding ledger's grew by 4"
    ) in out


def test_a_ledger_that_went_below_zero_on_the_way_is_named(custody, products, head_office, capsys):
    holding = _holding(custody, products)
    product = products["12.7KG"]
    insert = (
        "INSERT INTO sales_holdingentry (holding_id, customer_id, product_id, kind, quantity, "
        "deposit, refund_to, actor_id, created_at, doc_type, reference, note) "
        "VALUES (%s, %s, %s, 'ADJUSTMENT', %s, 0, '', %s, %s, '', '', 'tampered')"
    )
    moment = holding.last_movement_at
    as_superuser(
        (insert, [holding.pk, custody.pk, product.pk, -3, head_office.pk, moment]),
        (insert, [holding.pk, custody.pk, product.pk, 3, head_office.pk, moment]),
    )
    status, out, _err = _check(capsys)
    assert status == 1
    assert (
        "HOLDING C001 12.7KG: its ledger goes below zero on the way, down to -1 cylinders, "
        f"deposit 0.00 (holding id {holding.pk})"
    ) in out
    assert "holding says" not in out  # the end figures agree
    assert "CONSERVATION" not in out  # -3 + 3 adjusted: nothing came or went


def test_entries_of_another_customer_on_a_holding_are_named(
    custody, products, customer_factory, capsys
):
    other = customer_factory()
    entry = HoldingEntry.objects.get(customer=custody, product=products["12.7KG"])
    as_superuser(
        ("UPDATE sales_holdingentry SET customer_id = %s WHERE id = %s", [other.pk, entry.pk])
    )
    status, out, _err = _check(capsys)
    assert status == 1
    assert "HOLDING C001 12.7KG: its ledger has entries of another customer or product" in out


def test_a_removed_holding_is_named(custody, products, capsys):
    holding = _holding(custody, products)
    as_superuser(("DELETE FROM sales_cylinderholding WHERE id = %s", [holding.pk]))
    status, out, _err = _check(capsys)
    # put it back: the test's end checks the foreign keys the deletion broke
    as_superuser(
        (
            "INSERT INTO sales_cylinderholding (id, customer_id, product_id, quantity, "
            "deposit_held, last_movement_at) VALUES (%s, %s, %s, 2, 0, NULL)",
            [holding.pk, custody.pk, products["12.7KG"].pk],
        )
    )
    assert status == 1
    assert f"HOLDING id {holding.pk} is missing; its ledger says 2 cylinders, deposit 0.00" in out
    assert "customers 0 = 98, but receipts 100" in out
    assert "= 100: 2 missing" in out


def test_a_removed_sale_movement_is_explained(custody, products, capsys):
    """The sale's stock rows gone: the vehicle's level no longer matches its ledger, and
    the books say where the cylinders went astray."""
    moves = StockMovement.objects.filter(kind="SALE", product=products["12.7KG"])
    for move in moves:
        as_superuser(("DELETE FROM stock_stockmovement WHERE id = %s", [move.pk]))
    status, out, _err = _check(capsys)
    assert status == 1
    assert "DIFFERENCE vehicle" in out
    assert (
        "CONSERVATION 12.7KG: the stock ledger's sales, voids and returns moved 0 cylinders "
        "to customers, but the holding ledger's grew by 2"
    ) in out


def test_an_unrecorded_receipt_is_named_with_the_figures(custody, north, products, capsys):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE stock_stocklevel SET quantity = quantity + 7 "
            "WHERE sales_rep_id IS NULL AND product_id = %s AND state = 'FULL'",
            [products["9KG"].pk],
        )
    status, out, _err = _check(capsys)
    assert status == 1
    assert "DIFFERENCE depot NORTH 9KG FULL: level says 97, ledger says 90" in out
    assert (
        "CONSERVATION 9KG: depots 97 + vehicles 10 + customers 0 = 107, but receipts 100 - "
        "plant dispatches 0 + stock adjustments 0 + holding adjustments and openings 0 - "
        "write-offs 0 = 100: 7 more than accounted for"
    ) in out


def test_a_transfer_with_one_side_missing_is_named(
    custody, north, south, products, head_office, capsys
):
    from stock.services import stock_transfer

    transfer = stock_transfer(
        from_depot=north,
        to_depot=south,
        lines=[{"product": products["9KG"], "quantity": 5}],
        actor=head_office,
    )
    move = StockMovement.objects.get(doc_type="stock.transfer", doc_id=transfer.pk)
    as_superuser(("UPDATE stock_stockmovement SET to_level_id = NULL WHERE id = %s", [move.pk]))
    status, out, _err = _check(capsys)
    assert status == 1
    assert "DIFFERENCE depot SOUTH 9KG FULL: level says 5, ledger says 0" in out
    assert ("CONSERVATION 9KG: transfer between depots movements net -5 in the stock ledger") in out


@pytest.mark.postgres
def test_a_holding_below_zero_is_named(custody, products, capsys):
    """Only with its CHECK constraint dropped (by the schema's owner; the test's
    transaction puts it back)."""
    holding = _holding(custody, products, "9KG")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred checks pending
        cursor.execute(
            "ALTER TABLE sales_cylinderholding DROP CONSTRAINT sales_holding_quantity_not_negative"
        )
        cursor.execute("UPDATE sales_cylinderholding SET quantity = -2 WHERE id = %s", [holding.pk])
    status, out, _err = _check(capsys)
    assert status == 1
    assert (
        f"HOLDING C001 9KG: below zero: holding says -2 cylinders, deposit 0.00 "
        f"(holding id {holding.pk})"
    ) in out
