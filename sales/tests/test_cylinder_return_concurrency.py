"""Customers' cylinders under real concurrency (PostgreSQL, threads): returns for one
customer never take a holding below zero (invariant 11), RET- numbers stay gapless
(invariant 6), and a new deposit rate and the sales it could price keep the deposit of
their own moment (invariant 5)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from sales.models import CylinderHolding, CylinderReturn, HoldingEntry, Transaction
from sales.selectors import customer_balance, deposit_in_force
from sales.services import cylinder_return, deposit_set, sale_post, sale_void
from stock.selectors import ledger_differences, stock_on_hand

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

D = Decimal


def _sell(customer, rep, product, quantity, empties):
    line = {"product": product, "quantity": quantity, "empties_returned": empties}
    return sale_post(customer=customer, sales_rep=rep, actor=rep, lines=[line])


def _return(customer, rep, product, quantity):
    return lambda: cylinder_return(
        customer=customer,
        sales_rep=rep,
        actor=rep,
        lines=[{"product": product, "quantity": quantity}],
    )


def _numbers_gapless(numbers):
    counters = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert counters == list(range(1, len(counters) + 1)), counters


def test_concurrent_returns_never_take_a_holding_below_zero(
    concurrently, credit_customer, loaded_vehicle, products, head_office
):
    cyl = products["12.7KG"]
    deposit_set(product=cyl, amount="500", actor=head_office)
    _sell(credit_customer, loaded_vehicle, cyl, 5, 0)  # holds 5, paid 2500.00
    balance = customer_balance(customer=credit_customer)

    outcomes = concurrently([_return(credit_customer, loaded_vehicle, cyl, 2) for _ in range(6)])

    posted = [o for o in outcomes if isinstance(o, CylinderReturn)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert (len(posted), len(refused)) == (2, 4), outcomes
    for refusal in refused:
        assert refusal.error_dict["lines[0].quantity"][0].code == "more_than_held"
    holding = CylinderHolding.objects.get(customer=credit_customer, product=cyl)
    assert (holding.quantity, holding.deposit_held) == (1, D("500.00"))
    assert sorted(r.refund_amount for r in posted) == [D("1000.00"), D("1000.00")]
    assert customer_balance(customer=credit_customer) == balance - D("2000.00")
    assert stock_on_hand(product=cyl, state="EMPTY", sales_rep=loaded_vehicle) == 4
    assert list(ledger_differences()) == []
    _numbers_gapless(CylinderReturn.objects.values_list("number", flat=True))


def test_ret_numbers_stay_gapless_while_sales_voids_and_returns_race(
    concurrently, customer_factory, loaded_vehicle, products, head_office, manager
):
    cyl = products["9KG"]
    deposit_set(product=cyl, amount="300", actor=head_office)
    customers = [customer_factory("CASH") for _ in range(4)]
    sales = [_sell(customer, loaded_vehicle, cyl, 2, 0) for customer in customers]
    calls = [_return(customer, loaded_vehicle, cyl, 1) for customer in customers]
    calls += [_return(customer, loaded_vehicle, cyl, 1) for customer in customers[:2]]
    calls += [lambda: _sell(customers[3], loaded_vehicle, cyl, 1, 0)]
    calls += [lambda: sale_void(transaction=sales[2], actor=manager, reason="race")]
    outcomes = concurrently(calls)

    failures = [o for o in outcomes if isinstance(o, BaseException)]
    # The void of C003's sale and C003's return race: whichever comes second may find
    # too few cylinders (void first: the return takes back more than held; the return
    # first: the void would leave a holding below zero). Nothing else fails.
    assert len(failures) <= 1, failures
    for failure in failures:
        codes = {failure.code} if hasattr(failure, "code") else set()
        if hasattr(failure, "error_dict"):
            codes = {e.code for errors in failure.error_dict.values() for e in errors}
        assert codes, failure
        assert codes <= {"holding_negative", "more_than_held"}, failure
    _numbers_gapless(CylinderReturn.objects.values_list("number", flat=True))
    for holding in CylinderHolding.objects.all():
        entries = HoldingEntry.objects.filter(holding=holding)
        assert holding.quantity == sum(e.quantity for e in entries) >= 0
        assert holding.deposit_held == sum(e.deposit for e in entries) >= 0
    assert list(ledger_differences()) == []


def test_sales_and_deposit_changes_at_once_charge_the_deposit_of_their_moment(
    concurrently, customer_factory, loaded_vehicle, products, head_office
):
    cyl = products["12.7KG"]
    deposit_set(product=cyl, amount="400", actor=head_office)
    customers = [customer_factory("CASH") for _ in range(4)]

    def sell(customer):
        return lambda: _sell(customer, loaded_vehicle, cyl, 1, 0)

    def change(amount):
        return lambda: deposit_set(product=cyl, amount=amount, actor=head_office)

    calls = [sell(customers[i % 4]) for i in range(10)]
    for position, amount in ((2, "410"), (6, "420"), (9, "430")):
        calls.insert(position, change(amount))
    outcomes = concurrently(calls)

    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    assert Transaction.objects.count() == 10
    for sale in Transaction.objects.prefetch_related("lines"):
        in_force = deposit_in_force(product=cyl, at=sale.created_at)
        line = sale.lines.get()
        assert (line.deposit_rate, line.deposit, sale.deposit_amount) == (
            in_force,
            in_force,
            in_force,
        ), sale.number
        assert sale.total_amount == D("3000.00") + in_force
