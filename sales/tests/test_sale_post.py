from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import AuditLog
from sales.models import MeterSale, Transaction, TransactionLine
from sales.selectors import customer_balance
from sales.services import payment_record, rate_set, sale_post
from stock.models import StockMovement
from stock.selectors import ledger_differences, stock_on_hand

pytestmark = pytest.mark.django_db


def written():
    return (
        Transaction.objects.count(),
        TransactionLine.objects.count(),
        MeterSale.objects.count(),
        StockMovement.objects.count(),
        AuditLog.objects.count(),
    )


def line(product, quantity, empties=None):
    data = {"product": product, "quantity": quantity}
    if empties is not None:
        data["empties_returned"] = empties
    return data


def test_cash_cylinder_sale(cash_customer, loaded_vehicle, products, head_office):
    sale = sale_post(
        customer=cash_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[line(products["12.7KG"], 2), line(products["9KG"], 1, empties=0)],
    )
    assert sale.status == "POSTED"
    assert sale.total_amount == Decimal("8200.00")
    assert (sale.is_paid, sale.amount_paid, sale.payment_type) == (True, Decimal("8200.00"), "CASH")
    rates = {
        ln.product.code: (ln.rate, ln.subtotal, ln.empties_returned) for ln in sale.lines.all()
    }
    assert rates == {
        "12.7KG": (Decimal("3000.00"), Decimal("6000.00"), 2),
        "9KG": (Decimal("2200.00"), Decimal("2200.00"), 0),
    }
    assert stock_on_hand(product=products["12.7KG"], sales_rep=loaded_vehicle) == 18
    assert stock_on_hand(product=products["12.7KG"], state="EMPTY", sales_rep=loaded_vehicle) == 2
    assert stock_on_hand(product=products["9KG"], state="EMPTY", sales_rep=loaded_vehicle) == 0
    assert list(ledger_differences()) == []
    entry = AuditLog.objects.get(action="sale_post")
    assert (entry.actor, entry.data["total"]) == (loaded_vehicle, "8200.00")


def test_numbers_are_consecutive(cash_customer, loaded_vehicle, products):
    from django.utils import timezone

    numbers = [
        sale_post(
            customer=cash_customer,
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[line(products["9KG"], 1)],
        ).number
        for _ in range(3)
    ]
    year = timezone.localdate().year
    assert numbers == [f"TX-{year}-{n:06d}" for n in (1, 2, 3)]


def test_meter_sale_bills_the_difference_and_moves_the_reading(cash_customer, sales_rep):
    cash_customer.last_meter_reading = Decimal("1000.00")
    cash_customer.save()
    sale = sale_post(
        customer=cash_customer, sales_rep=sales_rep, actor=sales_rep, meter_reading="1234.50"
    )
    meter = sale.meter_sale
    assert (meter.last_reading, meter.latest_reading, meter.quantity) == (
        Decimal("1000.00"),
        Decimal("1234.50"),
        Decimal("234.50"),
    )
    assert (meter.rate, meter.subtotal, sale.total_amount) == (
        Decimal("250.00"),
        Decimal("58625.00"),
        Decimal("58625.00"),
    )
    cash_customer.refresh_from_db()
    assert cash_customer.last_meter_reading == Decimal("1234.50")


@pytest.mark.parametrize("reading", ["999.99", "1000.00"])
def test_meter_reading_must_move_up(cash_customer, sales_rep, reading):
    cash_customer.last_meter_reading = Decimal("1000.00")
    cash_customer.save()
    before = written()
    with pytest.raises(ValidationError) as exc:
        sale_post(
            customer=cash_customer, sales_rep=sales_rep, actor=sales_rep, meter_reading=reading
        )
    assert exc.value.message_dict["meter_reading"] == [
        f"Meter reading {reading} must be above customer {cash_customer.code}'s last "
        "reading 1000.00."
    ]
    assert written() == before
    cash_customer.refresh_from_db()
    assert cash_customer.last_meter_reading == Decimal("1000.00")


def test_missing_rate_is_a_refusal_not_a_zero_price(customer_factory, loaded_vehicle, products):
    customer = customer_factory(rates={"9KG": "2200.00"})
    before = written()
    with pytest.raises(ValidationError) as exc:
        sale_post(
            customer=customer,
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[line(products["12.7KG"], 1)],
        )
    assert exc.value.messages == [
        f"No rate for 12.7KG is in force for customer {customer.code} ({customer.name}), "
        "and 12.7KG has no list price; set a rate or a list price before selling."
    ]
    assert written() == before


def test_withdrawn_rate_is_refused(cash_customer, loaded_vehicle, products, head_office):
    rate_set(customer=cash_customer, product=products["9KG"], rate=None, actor=head_office)
    with pytest.raises(ValidationError, match="No rate for 9KG"):
        sale_post(
            customer=cash_customer,
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[line(products["9KG"], 1)],
        )


def test_selling_more_than_the_vehicle_holds_is_refused_whole(
    cash_customer, loaded_vehicle, products
):
    before = written()
    with pytest.raises(ValidationError) as exc:
        sale_post(
            customer=cash_customer,
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[line(products["9KG"], 1), line(products["12.7KG"], 21)],
        )
    assert exc.value.messages == [
        f"Only 20 full 12.7KG cylinders on vehicle {loaded_vehicle.vehicle_no} "
        f"({loaded_vehicle.username}); 21 requested."
    ]
    assert written() == before
    assert stock_on_hand(product=products["9KG"], sales_rep=loaded_vehicle) == 10


def test_a_rate_change_after_a_sale_leaves_it_untouched(
    cash_customer, loaded_vehicle, products, head_office
):
    sale = sale_post(
        customer=cash_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[line(products["12.7KG"], 1)],
    )
    rate_set(customer=cash_customer, product=products["12.7KG"], rate="3500.00", actor=head_office)
    sale.refresh_from_db()
    assert sale.total_amount == Decimal("3000.00")
    assert sale.lines.get().rate == Decimal("3000.00")
    later = sale_post(
        customer=cash_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[line(products["12.7KG"], 1)],
    )
    assert later.total_amount == Decimal("3500.00")


def test_credit_sale_is_unpaid_and_owed(credit_customer, loaded_vehicle, products):
    sale = sale_post(
        customer=credit_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[line(products["12.7KG"], 2)],
    )
    assert (sale.is_paid, sale.amount_paid) == (False, Decimal("0"))
    assert customer_balance(customer=credit_customer) == Decimal("6000.00")


def test_credit_limit_refuses_the_sale_that_would_pass_it(
    credit_customer, loaded_vehicle, products
):
    sale_post(
        customer=credit_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[line(products["12.7KG"], 6)],
    )  # 18000 of 20000
    before = written()
    with pytest.raises(ValidationError) as exc:
        sale_post(
            customer=credit_customer,
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[line(products["9KG"], 1)],
        )
    assert exc.value.messages == [
        f"This sale (2,200.00) would take customer {credit_customer.code} to 20,200.00, "
        "over the credit limit of 20,000.00."
    ]
    assert written() == before
    payment_record(customer=credit_customer, amount="5000.00", actor=loaded_vehicle)
    sale = sale_post(
        customer=credit_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[line(products["9KG"], 1)],
    )
    assert customer_balance(customer=credit_customer) == Decimal("15200.00")
    assert sale.status == "POSTED"


def test_idempotency_key_posts_once(cash_customer, loaded_vehicle, products):
    kwargs = {
        "customer": cash_customer,
        "sales_rep": loaded_vehicle,
        "actor": loaded_vehicle,
        "lines": [line(products["12.7KG"], 1)],
        "idempotency_key": "hh-42-0001",
    }
    first = sale_post(**kwargs)
    again = sale_post(**kwargs)
    assert again.pk == first.pk
    assert Transaction.objects.count() == 1
    assert stock_on_hand(product=products["12.7KG"], sales_rep=loaded_vehicle) == 19


def test_idempotency_key_of_another_customer_is_refused(customer_factory, loaded_vehicle, products):
    a, b = customer_factory(), customer_factory()
    sale_post(
        customer=a,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[line(products["9KG"], 1)],
        idempotency_key="k1",
    )
    with pytest.raises(ValidationError) as exc:
        sale_post(
            customer=b,
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[line(products["9KG"], 1)],
            idempotency_key="k1",
        )
    assert "already used for sale" in exc.value.message_dict["idempotency_key"][0]


@pytest.mark.parametrize(
    ("kwargs", "field", "text"),
    [
        ({"lines": [{"product": "12.7KG", "quantity": 1}]}, "lines", "lines[0]: name a product"),
        (
            {"lines": [{"product": "P9", "quantity": 0}]},
            "lines",
            "lines[0].quantity: Enter a whole number above zero; got 0.",
        ),
        (
            {"lines": [{"product": "P9", "quantity": 1, "empties_returned": -1}]},
            "lines",
            "lines[0].empties_returned: Enter a whole number of zero or more; got -1.",
        ),
        (
            {"lines": [{"product": "P9", "quantity": 1}, {"product": "P9", "quantity": 2}]},
            "lines",
            "lines[1]: 9KG appears twice",
        ),
        (
            {"lines": [{"product": "BULK", "quantity": 1}]},
            "lines",
            "lines[0].product: BULK is sold by meter reading",
        ),
        ({"meter_reading": "12.345"}, "meter_reading", "at most two decimal places"),
        ({"meter_reading": "abc"}, "meter_reading", "Enter an amount"),
        ({"meter_reading": 12.5}, "meter_reading", "Enter an amount"),
        ({"idempotency_key": "x" * 101}, "idempotency_key", "at most 100"),
    ],
)
def test_bad_input_names_the_field(cash_customer, loaded_vehicle, products, kwargs, field, text):
    for item in kwargs.get("lines", []):
        code = {"P9": "9KG"}.get(item["product"], item["product"])
        if code in products and item["product"] != "12.7KG":
            item["product"] = products[code]
    before = written()
    with pytest.raises(ValidationError) as exc:
        sale_post(
            customer=cash_customer,
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            **{"lines": [line(products["9KG"], 1)], **kwargs},
        )
    assert any(text in m for m in exc.value.message_dict[field]), exc.value.message_dict
    assert written() == before


def test_empty_sale_is_refused(cash_customer, sales_rep):
    with pytest.raises(ValidationError, match="at least one cylinder line or a meter reading"):
        sale_post(customer=cash_customer, sales_rep=sales_rep, actor=sales_rep)


def test_inactive_customer_is_refused(cash_customer, loaded_vehicle, products):
    cash_customer.is_active = False
    cash_customer.save()
    with pytest.raises(ValidationError, match="is inactive"):
        sale_post(
            customer=cash_customer,
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[line(products["9KG"], 1)],
        )


def test_rep_sells_only_as_themselves(cash_customer, loaded_vehicle, user_factory, north, products):
    other = user_factory("SALES", depots=[north])
    with pytest.raises(PermissionDenied):
        sale_post(
            customer=cash_customer,
            sales_rep=loaded_vehicle,
            actor=other,
            lines=[line(products["9KG"], 1)],
        )
