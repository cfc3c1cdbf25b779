"""What sales and voids do to a customer's cylinders held and the deposits on them
(sales.services.holdings; DESIGN.md "Money and tax", invariants 5, 11, 12)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.models import AuditLog
from sales.models import CylinderHolding, HoldingEntry, Transaction
from sales.selectors import customer_balance, cylinders_held, deposit_held
from sales.services import deposit_set, sale_post, sale_void
from stock.selectors import stock_on_hand

pytestmark = pytest.mark.django_db

D = Decimal


def sell(customer, rep, product, quantity, empties=None, **kwargs):
    line = {"product": product, "quantity": quantity}
    if empties is not None:
        line["empties_returned"] = empties
    return sale_post(customer=customer, sales_rep=rep, actor=rep, lines=[line], **kwargs)


@pytest.fixture
def cyl(products):
    return products["12.7KG"]


def priced_since(customer, product, head_office, moment):
    """The customer's rate of 3000.00 in force from `moment` on (the fixture's is now)."""
    from sales.services import rate_set

    rate_set(customer=customer, product=product, rate=D("3000"), actor=head_office, at=moment)


@pytest.fixture
def deposit(cyl, head_office):
    return deposit_set(product=cyl, amount="500.00", actor=head_office)


def test_a_sale_charges_the_deposit_on_the_cylinders_the_holding_grows_by(
    cash_customer, loaded_vehicle, cyl, deposit
):
    sale = sell(cash_customer, loaded_vehicle, cyl, 3, empties=1)
    line = sale.lines.get()
    assert (line.deposit_rate, line.deposit, line.deposit_refund) == (D("500"), D("1000"), 0)
    assert (sale.net_amount, sale.deposit_amount, sale.deposit_refund) == (D("9000"), D("1000"), 0)
    assert sale.total_amount == D("10000.00")  # net + tax (none) + deposit
    assert sale.amount_paid == sale.total_amount  # a cash sale pays its deposit too
    assert cylinders_held(customer=cash_customer, product=cyl) == 2
    assert deposit_held(customer=cash_customer, product=cyl) == D("1000.00")
    entry = HoldingEntry.objects.get()
    assert (entry.kind, entry.quantity, entry.deposit, entry.refund_to) == ("SALE", 2, 1000, "")
    assert (entry.doc_type, entry.doc_id, entry.reference) == (
        "sales.transaction",
        sale.pk,
        sale.number,
    )
    assert entry.holding.last_movement_at == sale.created_at
    audit = AuditLog.objects.get(action="sale_post", object_id=str(sale.pk))
    assert (audit.data["deposit"], audit.data["deposit_refund"]) == ("1000.00", "0.00")


def test_deposits_carry_no_tax(cash_customer, loaded_vehicle, cyl, deposit, head_office):
    from sales.services import tax_rate_set

    tax_rate_set(rate="10", actor=head_office)
    sale = sell(cash_customer, loaded_vehicle, cyl, 2, empties=0)
    assert (sale.net_amount, sale.tax_amount, sale.deposit_amount) == (
        D("6000.00"),
        D("600.00"),
        D("1000.00"),
    )
    assert sale.total_amount == D("7600.00")


def test_a_swap_moves_nothing_but_records_the_visit(cash_customer, loaded_vehicle, cyl, deposit):
    sale = sell(cash_customer, loaded_vehicle, cyl, 2)  # empties default to the quantity
    assert (sale.deposit_amount, sale.deposit_refund) == (0, 0)
    holding = CylinderHolding.objects.get()
    assert (holding.quantity, holding.deposit_held) == (0, 0)
    assert holding.last_movement_at == sale.created_at
    assert HoldingEntry.objects.get().quantity == 0


def test_no_deposit_rate_charges_nothing(cash_customer, loaded_vehicle, cyl):
    sale = sell(cash_customer, loaded_vehicle, cyl, 2, empties=0)
    assert (sale.deposit_amount, sale.total_amount) == (0, D("6000.00"))
    assert cylinders_held(customer=cash_customer, product=cyl) == 2


def test_an_exempt_customer_is_charged_none(customer_factory, loaded_vehicle, cyl, deposit):
    owner = customer_factory("CASH", deposit_exempt=True)
    sale = sell(owner, loaded_vehicle, cyl, 2, empties=0)
    line = sale.lines.get()
    assert (line.deposit_rate, line.deposit, sale.deposit_amount) == (0, 0, 0)
    assert cylinders_held(customer=owner, product=cyl) == 2  # still counted: conservation
    assert deposit_held(customer=owner) == 0


def test_the_deposit_in_force_at_the_sale_is_charged_and_kept(
    cash_customer, loaded_vehicle, cyl, head_office
):
    now = timezone.now()
    priced_since(cash_customer, cyl, head_office, now - timedelta(hours=4))
    deposit_set(product=cyl, amount="400", actor=head_office, at=now - timedelta(hours=3))
    deposit_set(
        product=cyl,
        amount="450",
        actor=head_office,
        effective_from=now - timedelta(hours=1),
        at=now - timedelta(hours=3),
    )
    first = sell(cash_customer, loaded_vehicle, cyl, 1, empties=0, at=now - timedelta(hours=2))
    second = sell(cash_customer, loaded_vehicle, cyl, 1, empties=0, at=now - timedelta(minutes=30))
    deposit_set(product=cyl, amount="600", actor=head_office)  # later: reprices nothing
    assert [first.lines.get().deposit_rate, second.lines.get().deposit_rate] == [D(400), D(450)]
    first.refresh_from_db()
    assert first.deposit_amount == D("400.00")
    assert deposit_held(customer=cash_customer, product=cyl) == D("850.00")


def test_more_empties_than_delivered_refunds_the_average_paid(
    credit_customer, loaded_vehicle, cyl, head_office
):
    now = timezone.now()
    priced_since(credit_customer, cyl, head_office, now - timedelta(hours=4))
    deposit_set(product=cyl, amount="400", actor=head_office, at=now - timedelta(hours=3))
    sell(credit_customer, loaded_vehicle, cyl, 1, empties=0, at=now - timedelta(hours=2))
    deposit_set(product=cyl, amount="500", actor=head_office, at=now - timedelta(hours=2))
    sell(credit_customer, loaded_vehicle, cyl, 2, empties=0, at=now - timedelta(hours=1))
    assert deposit_held(customer=credit_customer, product=cyl) == D("1400.00")  # 3 held
    balance = customer_balance(customer=credit_customer)

    sale = sell(credit_customer, loaded_vehicle, cyl, 1, empties=2)  # one back for good
    line = sale.lines.get()
    assert (line.deposit, line.deposit_refund) == (0, D("466.67"))  # 1400 / 3, half-up
    assert (sale.deposit_amount, sale.deposit_refund, sale.total_amount) == (
        0,
        D("466.67"),
        D("3000.00"),  # the refund is not part of the sale's total
    )
    assert cylinders_held(customer=credit_customer, product=cyl) == 2
    assert deposit_held(customer=credit_customer, product=cyl) == D("933.33")
    # credited to the account: the balance rises by the sale, falls by the refund
    assert customer_balance(customer=credit_customer) == balance + D("3000.00") - D("466.67")
    entry = HoldingEntry.objects.get(doc_id=sale.pk, kind="SALE")
    assert (entry.quantity, entry.deposit, entry.refund_to) == (-1, D("-466.67"), "ACCOUNT")

    last = sell(credit_customer, loaded_vehicle, cyl, 1, empties=3)  # every one back
    assert last.deposit_refund == D("933.33")
    assert (
        cylinders_held(customer=credit_customer, product=cyl),
        deposit_held(customer=credit_customer),
    ) == (0, 0)


def test_a_cash_customers_refund_is_paid_out_by_the_representative(
    cash_customer, loaded_vehicle, cyl, deposit
):
    sell(cash_customer, loaded_vehicle, cyl, 2, empties=0)
    sale = sell(cash_customer, loaded_vehicle, cyl, 1, empties=2)
    assert (sale.deposit_refund, sale.amount_paid, sale.total_amount) == (
        D("500.00"),
        D("3000.00"),
        D("3000.00"),
    )
    entry = HoldingEntry.objects.get(doc_id=sale.pk)
    assert (entry.refund_to, entry.sales_rep, entry.deposit) == ("CASH", loaded_vehicle, D(-500))
    assert customer_balance(customer=cash_customer) == 0  # not the account's


def test_taking_back_more_than_held_is_refused_with_the_figures(
    cash_customer, loaded_vehicle, cyl, deposit
):
    sell(cash_customer, loaded_vehicle, cyl, 1, empties=0)
    before = (Transaction.objects.count(), HoldingEntry.objects.count())
    empties_before = stock_on_hand(product=cyl, state="EMPTY", sales_rep=loaded_vehicle)
    with pytest.raises(ValidationError) as exc:
        sell(cash_customer, loaded_vehicle, cyl, 1, empties=3)
    errors = exc.value.error_dict["lines[0].empties_returned"]
    assert errors[0].code == "more_than_held"
    assert "holds 1 12.7KG cylinder;" in errors[0].messages[0]
    assert "3 empties for 1 delivered: 2 cannot be taken back" in errors[0].messages[0]
    assert (Transaction.objects.count(), HoldingEntry.objects.count()) == before
    assert stock_on_hand(product=cyl, state="EMPTY", sales_rep=loaded_vehicle) == empties_before
    assert cylinders_held(customer=cash_customer, product=cyl) == 1


def test_the_refund_counts_against_the_credit_limit_check(
    customer_factory, loaded_vehicle, cyl, deposit
):
    customer = customer_factory("CREDIT", credit_limit=D("7000.00"))
    sell(customer, loaded_vehicle, cyl, 2, empties=0)  # 6000 + 1000 deposit: at the limit
    # 3000 more, less the 500 refunded on the one cylinder taken back beyond it: refused
    with pytest.raises(ValidationError) as exc:
        sell(customer, loaded_vehicle, cyl, 1, empties=2)
    assert exc.value.error_dict["customer"][0].code == "credit_limit"
    assert "to 9,500.00" in exc.value.messages[0] or "9500.00" in exc.value.messages[0]


# --- voids ------------------------------------------------------------------------------


def test_a_void_reverses_the_charge(credit_customer, loaded_vehicle, cyl, deposit, manager):
    sale = sell(credit_customer, loaded_vehicle, cyl, 3, empties=1)
    assert customer_balance(customer=credit_customer) == D("10000.00")
    sale_void(transaction=sale, actor=manager, reason="wrong customer")
    assert sale.credit_note.amount == D("10000.00")  # the deposit is part of the total
    assert customer_balance(customer=credit_customer) == 0
    assert (
        cylinders_held(customer=credit_customer, product=cyl),
        deposit_held(customer=credit_customer),
    ) == (0, 0)
    void = HoldingEntry.objects.get(kind="VOID")
    assert (void.quantity, void.deposit, void.refund_to, void.doc_id) == (-2, D(-1000), "", sale.pk)


def test_a_void_takes_back_a_refund_where_it_went(
    credit_customer, loaded_vehicle, cyl, deposit, manager
):
    sell(credit_customer, loaded_vehicle, cyl, 2, empties=0)
    sale = sell(credit_customer, loaded_vehicle, cyl, 1, empties=2)
    balance = customer_balance(customer=credit_customer)
    sale_void(transaction=sale, actor=manager, reason="empties were someone else's")
    assert cylinders_held(customer=credit_customer, product=cyl) == 2
    assert deposit_held(customer=credit_customer, product=cyl) == D("1000.00")
    # the sale (3000) is credited back, the refund (500) no longer credited
    assert customer_balance(customer=credit_customer) == balance - D("3000.00") + D("500.00")
    void = HoldingEntry.objects.get(kind="VOID")
    assert (void.quantity, void.deposit, void.refund_to) == (1, D("500.00"), "ACCOUNT")


def test_a_void_is_refused_when_the_cylinders_went_back_since(
    cash_customer, loaded_vehicle, cyl, deposit, manager
):
    sale = sell(cash_customer, loaded_vehicle, cyl, 2, empties=0)
    sell(cash_customer, loaded_vehicle, cyl, 1, empties=3)  # both back, and the swap
    entries = HoldingEntry.objects.count()
    with pytest.raises(ValidationError) as exc:
        sale_void(transaction=sale, actor=manager, reason="mistake")
    assert exc.value.code == "holding_negative"
    assert f"{sale.number} cannot be voided" in exc.value.messages[0]
    assert "gave customer C001 2 12.7KG cylinders" in exc.value.messages[0]
    assert "now hold 0 (deposit 0.00)" in exc.value.messages[0]
    sale.refresh_from_db()
    assert sale.status == "POSTED"
    assert HoldingEntry.objects.count() == entries


def test_holdings_equal_the_replay_of_their_ledger(
    credit_customer, cash_customer, loaded_vehicle, cyl, products, deposit, manager
):
    sell(credit_customer, loaded_vehicle, cyl, 3, empties=0)
    sale = sell(credit_customer, loaded_vehicle, products["9KG"], 2, empties=0)
    sell(credit_customer, loaded_vehicle, cyl, 1, empties=2)
    sell(cash_customer, loaded_vehicle, cyl, 2, empties=1)
    sale_void(transaction=sale, actor=manager, reason="test")
    for holding in CylinderHolding.objects.all():
        entries = HoldingEntry.objects.filter(holding=holding)
        assert holding.quantity == sum(e.quantity for e in entries)
        assert holding.deposit_held == sum(e.deposit for e in entries)
        assert holding.last_movement_at == max(e.created_at for e in entries)
        assert holding.quantity >= 0
        assert holding.deposit_held >= 0


def test_the_sale_reads_deposits_and_holdings_once_and_writes_them_once(
    credit_customer, loaded_vehicle, products, cyl, deposit, head_office
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    deposit_set(product=products["9KG"], amount="300", actor=head_office)
    sell(credit_customer, loaded_vehicle, products["9KG"], 3, empties=0)
    lines = [
        {"product": cyl, "quantity": 2, "empties_returned": 0},  # grows: charged
        {"product": products["9KG"], "quantity": 1, "empties_returned": 3},  # refunded
    ]
    with CaptureQueriesContext(connection) as queries:
        sale = sale_post(
            customer=credit_customer, sales_rep=loaded_vehicle, actor=loaded_vehicle, lines=lines
        )
    sql = [q["sql"] for q in queries.captured_queries]

    def count(table, verb):
        return sum(1 for s in sql if s.lstrip().upper().startswith(verb) and table in s)

    assert count("sales_depositrate", "SELECT") == 1
    assert count("sales_cylinderholding", "SELECT") == 1
    assert count("sales_cylinderholding", "INSERT") == 1  # the upsert, both lines
    assert count("sales_cylinderholding", "UPDATE") == 0
    assert count("sales_holdingentry", "INSERT") == 1
    assert (sale.deposit_amount, sale.deposit_refund) == (D("1000.00"), D("600.00"))
