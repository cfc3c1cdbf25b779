"""The refund arithmetic, by hypothesis: a refund is the average paid per cylinder held,
never more than the deposit held, which is never negative; when every cylinder has come
back, exactly what was paid has been refunded."""

import itertools
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sales.models import Customer, CylinderHolding, HoldingEntry
from sales.money_checks import allocations_check, settled_check
from sales.services import cylinder_return, deposit_set, rate_set, sale_post
from sales.services.holdings import refund_average
from stock.services import distribution_create, stock_receive

D = Decimal
_codes = itertools.count(1)

cents = st.integers(min_value=0, max_value=10**9).map(lambda c: D(c) / 100)


@given(
    held=st.integers(min_value=1, max_value=10_000),
    deposit=cents,
    data=st.data(),
)
def test_a_refund_is_the_average_and_never_more_than_held(held, deposit, data):
    returned = data.draw(st.integers(min_value=0, max_value=held))
    refund = refund_average(quantity_held=held, deposit_held=deposit, returned=returned)
    assert 0 <= refund <= deposit
    assert refund == refund.quantize(D("0.01"))
    exact = deposit * returned / held
    assert abs(refund - exact) <= D("0.005")  # rounded half-up to the cent
    if returned == held:
        assert refund == deposit


def test_taking_back_more_than_held_is_a_programming_error():
    with pytest.raises(ValueError, match="cannot take back 3 of 2"):
        refund_average(quantity_held=2, deposit_held=D("10"), returned=3)


# One step: ("charge", cylinders, deposit per cylinder) or ("return", cylinders).
steps = st.lists(
    st.one_of(
        st.tuples(st.just("charge"), st.integers(1, 50), cents),
        st.tuples(st.just("return"), st.integers(1, 60)),
    ),
    max_size=40,
)


@given(steps=steps)
def test_returns_in_any_order_refund_exactly_what_was_paid(steps):
    """The arithmetic the services apply, replayed: however charges and returns
    interleave, the deposit held stays between 0 and what was charged, and returning
    every cylinder refunds the whole of it."""
    quantity, deposit, charged, refunded = 0, D("0"), D("0"), D("0")
    for step in steps:
        if step[0] == "charge":
            _, n, rate = step
            quantity += n
            deposit += (rate * n).quantize(D("0.01"))
            charged += (rate * n).quantize(D("0.01"))
            continue
        n = step[1]
        if n > quantity:
            continue  # the services refuse it (more_than_held)
        refund = refund_average(quantity_held=quantity, deposit_held=deposit, returned=n)
        assert refund <= deposit
        quantity -= n
        deposit -= refund
        refunded += refund
        assert deposit >= 0
        assert charged - refunded == deposit
    if quantity:
        refunded += refund_average(quantity_held=quantity, deposit_held=deposit, returned=quantity)
    assert refunded == charged


@pytest.mark.django_db
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    moves=st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 5), st.booleans(), cents),
        min_size=1,
        max_size=6,
    )
)
def test_sales_and_returns_keep_the_deposit_held_within_what_was_paid(
    moves, loaded_vehicle, products, head_office, north
):
    """Through the services: random sales (delivered, empties back, at a deposit that
    changes before each) and returns for a fresh customer; each is posted or refused
    whole, and afterwards the holding is the replay of its ledger, refunds never exceed
    charges, nothing is negative."""
    cyl = products["9KG"]
    stock_receive(depot=north, product=cyl, quantity=25, actor=head_office)
    distribution_create(
        sales_rep=loaded_vehicle,
        depot=north,
        product=cyl,
        quantity=25,
        kind="COLLECTION",
        actor=head_office,
    )  # enough on the vehicle for every sale the example may post
    customer = Customer.objects.create(
        code=f"H{next(_codes):04d}", name="Hypothesis", depot=north, payment_type="CREDIT"
    )
    rate_set(customer=customer, product=cyl, rate=D("10"), actor=head_office)
    for delivered, empties, as_return, deposit in moves:
        deposit_set(product=cyl, amount=min(deposit, D("99999")), actor=head_office)
        try:
            if as_return:
                cylinder_return(
                    customer=customer,
                    sales_rep=loaded_vehicle,
                    actor=loaded_vehicle,
                    lines=[{"product": cyl, "quantity": max(empties, 1)}],
                )
            elif delivered:
                sale_post(
                    customer=customer,
                    sales_rep=loaded_vehicle,
                    actor=loaded_vehicle,
                    lines=[{"product": cyl, "quantity": delivered, "empties_returned": empties}],
                )
        except ValidationError as exc:
            codes = {e.code for errors in exc.error_dict.values() for e in errors}
            assert codes <= {"more_than_held", "insufficient_stock"}, codes
    entries = list(HoldingEntry.objects.filter(customer=customer))
    holding = CylinderHolding.objects.filter(customer=customer).first()
    if holding is None:
        assert entries == []
        return
    assert holding.quantity == sum(e.quantity for e in entries) >= 0
    assert holding.deposit_held == sum(e.deposit for e in entries) >= 0
    charged = sum(e.deposit for e in entries if e.deposit > 0)
    refunded = -sum(e.deposit for e in entries if e.deposit < 0)
    assert refunded <= charged
    if holding.quantity == 0:
        assert holding.deposit_held == 0
    # Refunds credited to the account settle the unpaid sales: the money checks agree.
    for check in (allocations_check, settled_check):
        assert check().differences == []
