from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core.models import AuditLog
from sales.models import PaymentAllocation
from sales.selectors import customer_balance
from sales.services import payment_record, sale_post, sale_void
from stock.models import StockLevel
from stock.selectors import ledger_differences, stock_on_hand
from stock.services import stock_adjust

pytestmark = pytest.mark.django_db


def sell(customer, rep, product, quantity, empties=None, **kwargs):
    lines = [
        {
            "product": product,
            "quantity": quantity,
            **({} if empties is None else {"empties_returned": empties}),
        }
    ]
    return sale_post(customer=customer, sales_rep=rep, actor=rep, lines=lines, **kwargs)


def test_void_puts_fulls_back_and_takes_empties_off(
    cash_customer, loaded_vehicle, products, manager
):
    cyl = products["12.7KG"]
    sale = sell(cash_customer, loaded_vehicle, cyl, 3)
    voided = sale_void(transaction=sale, actor=manager, reason="wrong customer")
    assert (voided.status, voided.void_reason, voided.voided_by) == (
        "VOID",
        "wrong customer",
        manager,
    )
    assert stock_on_hand(product=cyl, sales_rep=loaded_vehicle) == 20
    assert stock_on_hand(product=cyl, state="EMPTY", sales_rep=loaded_vehicle) == 0
    assert list(ledger_differences()) == []
    assert voided.number == sale.number
    assert voided.lines.get().quantity == 3  # the document is kept, not rewritten
    assert AuditLog.objects.filter(action="sale_void", object_id=str(sale.pk)).count() == 1


def test_voiding_twice_is_refused(cash_customer, loaded_vehicle, products, manager):
    sale = sell(cash_customer, loaded_vehicle, products["9KG"], 1)
    sale_void(transaction=sale, actor=manager, reason="duplicate")
    with pytest.raises(ValidationError) as exc:
        sale_void(transaction=sale, actor=manager, reason="again")
    assert f"{sale.number} is already void" in exc.value.messages[0]
    assert "by northmanager: duplicate" in exc.value.messages[0]
    assert stock_on_hand(product=products["9KG"], sales_rep=loaded_vehicle) == 10


def test_void_needs_a_reason(cash_customer, loaded_vehicle, products, manager):
    sale = sell(cash_customer, loaded_vehicle, products["9KG"], 1)
    with pytest.raises(ValidationError) as exc:
        sale_void(transaction=sale, actor=manager, reason="  ")
    assert exc.value.message_dict == {"reason": ["Say why the sale is voided."]}
    sale.refresh_from_db()
    assert sale.status == "POSTED"


def test_void_refused_when_the_empties_have_left_the_vehicle(
    cash_customer, loaded_vehicle, products, manager
):
    from stock.services import distribution_create

    cyl = products["12.7KG"]
    sale = sell(cash_customer, loaded_vehicle, cyl, 2)
    distribution_create(
        sales_rep=loaded_vehicle,
        depot=loaded_vehicle.home_depot,
        product=cyl,
        quantity=2,
        kind="EMPTY_RETURN",
        actor=manager,
    )
    with pytest.raises(ValidationError, match=r"Only 0 empty 12\.7KG cylinders on vehicle"):
        sale_void(transaction=sale, actor=manager, reason="x")
    sale.refresh_from_db()
    assert sale.status == "POSTED"


def test_void_of_the_latest_meter_sale_restores_the_reading(cash_customer, sales_rep, manager):
    first = sale_post(
        customer=cash_customer, sales_rep=sales_rep, actor=sales_rep, meter_reading="100.00"
    )
    second = sale_post(
        customer=cash_customer, sales_rep=sales_rep, actor=sales_rep, meter_reading="150.00"
    )
    with pytest.raises(ValidationError) as exc:
        sale_void(transaction=first, actor=manager, reason="misread")
    assert exc.value.messages == [
        f"{first.number} cannot be voided: {second.number} recorded a later meter reading "
        f"(150.00) for customer {cash_customer.code}. Void that sale first."
    ]
    sale_void(transaction=second, actor=manager, reason="misread")
    cash_customer.refresh_from_db()
    assert cash_customer.last_meter_reading == Decimal("100.00")
    sale_void(transaction=first, actor=manager, reason="misread")
    cash_customer.refresh_from_db()
    assert cash_customer.last_meter_reading == Decimal("0.00")


def test_void_of_a_paid_credit_sale_moves_the_money_to_the_next_sale(
    credit_customer, loaded_vehicle, products, manager
):
    cyl = products["12.7KG"]
    first = sell(credit_customer, loaded_vehicle, cyl, 1)  # 3000
    second = sell(credit_customer, loaded_vehicle, cyl, 1)  # 3000
    payment = payment_record(customer=credit_customer, amount="3000.00", actor=manager)
    first.refresh_from_db()
    assert first.is_paid
    sale_void(transaction=first, actor=manager, reason="returned")
    first.refresh_from_db()
    second.refresh_from_db()
    payment.refresh_from_db()
    assert (first.amount_paid, first.is_paid) == (Decimal("0"), False)
    assert (second.amount_paid, second.is_paid) == (Decimal("3000.00"), True)
    assert payment.allocated == Decimal("3000.00")
    amounts = list(PaymentAllocation.objects.order_by("id").values_list("amount", flat=True))
    assert amounts == [Decimal("3000.00"), Decimal("-3000.00"), Decimal("3000.00")]
    assert customer_balance(customer=credit_customer) == Decimal("0.00")


def test_void_after_the_rep_moved_keeps_the_vehicle_in_its_new_depot(
    cash_customer, loaded_vehicle, products, south, head_office
):
    nine = products["9KG"]
    sale = sale_post(
        customer=cash_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": nine, "quantity": 1, "empties_returned": 0}],
    )
    for product in (nine, products["12.7KG"]):
        stock_adjust(
            product=product,
            state="FULL",
            counted=0,
            reason="moving",
            actor=head_office,
            sales_rep=loaded_vehicle,
        )
    loaded_vehicle.depots.set([south])
    sale_void(transaction=sale, actor=head_office, reason="late void")
    level = StockLevel.objects.get(sales_rep=loaded_vehicle, product=nine, state="FULL")
    assert (level.depot, level.quantity) == (south, 1)
