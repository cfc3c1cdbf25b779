"""Random transfers, load sheets and count sheets against a model of what each level
should hold: a posting succeeds exactly when the model says it may, or is refused and
changes nothing; no level ever goes negative, the levels equal the ledger, and transfers
conserve every product's cylinders."""

import itertools

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.models import Depot
from stock.models import Product, StockLevel
from stock.selectors import ledger_differences, stock_on_hand
from stock.services import (
    stock_adjust,
    stock_count_post,
    stock_receive,
    stock_transfer,
)
from stock.tests.custody import written

pytestmark = pytest.mark.django_db

PRODUCTS = ["9KG", "12.7KG", "50KG-L"]
STATES = ["FULL", "EMPTY"]
_ids = itertools.count(1)
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

line = st.tuples(st.sampled_from(PRODUCTS), st.integers(0, 25))
transfer = st.tuples(st.booleans(), st.sampled_from(STATES), st.lists(line, min_size=1, max_size=4))


def two_depots(actor):
    """Two fresh depots: A holds 20 of each product and state, B 10."""
    n = next(_ids)
    depots = [Depot.objects.create(code=f"P{n}{side}", name=f"Depot {n}{side}") for side in "AB"]
    products = {code: Product.objects.get(code=code) for code in PRODUCTS}
    for depot, quantity in zip(depots, (20, 10), strict=True):
        for product in products.values():
            stock_receive(depot=depot, product=product, quantity=quantity, actor=actor)
            stock_adjust(
                product=product,
                state="EMPTY",
                counted=quantity,
                reason="opening",
                actor=actor,
                depot=depot,
            )
    return depots, products


@SETTINGS
@given(transfers=st.lists(transfer, min_size=1, max_size=6))
def test_random_transfers_never_make_a_level_negative(head_office, transfers):
    depots, products = two_depots(head_office)
    model = {(d, p, s): q for d, q in ((0, 20), (1, 10)) for p in PRODUCTS for s in STATES}
    totals = {(p, s): 30 for p in PRODUCTS for s in STATES}
    for a_to_b, state, lines in transfers:
        source, target = (0, 1) if a_to_b else (1, 0)
        codes = [code for code, _ in lines]
        allowed = (
            len(set(codes)) == len(codes)
            and all(quantity >= 1 for _, quantity in lines)
            and all(quantity <= model[(source, code, state)] for code, quantity in lines)
        )
        before = written()
        args = {
            "from_depot": depots[source],
            "to_depot": depots[target],
            "lines": [{"product": products[c], "quantity": q} for c, q in lines],
            "state": state,
            "actor": head_office,
        }
        if allowed:
            transfer = stock_transfer(**args)
            assert transfer.lines.count() == len(lines)
            for code, quantity in lines:
                model[(source, code, state)] -= quantity
                model[(target, code, state)] += quantity
        else:
            with pytest.raises(ValidationError):
                stock_transfer(**args)
            assert written() == before
        for (d, code, s), quantity in model.items():
            assert stock_on_hand(product=products[code], state=s, depot=depots[d]) == quantity
        for (code, s), total in totals.items():
            assert sum(model[(d, code, s)] for d in (0, 1)) == total
    assert not StockLevel.objects.filter(quantity__lt=0).exists()
    assert list(ledger_differences()) == []


count_line = st.tuples(st.sampled_from(PRODUCTS), st.sampled_from(STATES), st.integers(0, 40))


@SETTINGS
@given(sheets=st.lists(st.lists(count_line, min_size=1, max_size=6), min_size=1, max_size=4))
def test_random_count_sheets_set_each_level_to_its_count(head_office, sheets):
    depots, products = two_depots(head_office)
    model = {(p, s): 20 for p in PRODUCTS for s in STATES}
    for sheet in sheets:
        keys = [(code, state) for code, state, _ in sheet]
        lines = [{"product": products[c], "state": s, "counted": n} for c, s, n in sheet]
        if len(set(keys)) < len(keys):
            before = written()
            with pytest.raises(ValidationError) as exc:
                stock_count_post(depot=depots[0], lines=lines, reason="count", actor=head_office)
            assert {e.code for errors in exc.value.error_dict.values() for e in errors} == {
                "duplicate_product"
            }
            assert written() == before
            continue
        count = stock_count_post(depot=depots[0], lines=lines, reason="count", actor=head_office)
        recorded = [(ln.product.code, ln.state, ln.system_quantity) for ln in count.lines.all()]
        assert recorded == [(c, s, model[(c, s)]) for c, s, _ in sheet]
        for code, state, counted in sheet:
            model[(code, state)] = counted
        for (code, state), quantity in model.items():
            assert stock_on_hand(product=products[code], state=state, depot=depots[0]) == quantity
    assert list(ledger_differences()) == []
