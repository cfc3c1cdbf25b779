"""Random sequences of every stock custody service (receipts, plant dispatches,
transfers, load sheets and empty returns, write-offs, count sheets) against a model of
what each level holds. Each step succeeds exactly when the model says it may, or is
refused and writes nothing; after every step no level is negative, the levels equal the
ledger, and each product's cylinders are conserved: depots + vehicles = receipts - plant
dispatches + adjustments - write-offs (invariant 11, the stock side)."""

import itertools

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Q, Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from core.models import Depot
from core.services import user_bootstrap, user_create
from stock.models import Product, StockLevel, StockMovement
from stock.selectors import ledger_differences, stock_on_hand
from stock.services import (
    distribution_post,
    empties_dispatch,
    stock_count_post,
    stock_receive,
    stock_transfer,
    stock_write_off,
)
from stock.tests.custody import written

_ids = itertools.count(1)
PRODUCTS = ["9KG", "12.7KG"]
STATES = ["FULL", "EMPTY"]
# A place: ("depot", 0 or 1) or ("vehicle", 0 or 1); vehicle i works from depot i.
PLACES = [(kind, i) for kind in ("depot", "vehicle") for i in (0, 1)]
lines_of = st.lists(
    st.tuples(st.sampled_from(PRODUCTS), st.integers(0, 12)), min_size=1, max_size=3
)


def total(moves, **where):
    return moves.filter(**where).aggregate(n=Sum("quantity"))["n"] or 0


class CustodyMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        n = next(_ids)
        self.boss = user_bootstrap(username=f"cboss{n}", password="x", role="ADMIN")
        self.depots = [Depot.objects.create(code=f"C{n}{s}", name=f"Depot {n}{s}") for s in "AB"]
        self.reps = [
            user_create(
                username=f"c{n}_{i}",
                password="x",
                role="SALES",
                depots=[depot],
                vehicle_no=f"CV{n}-{i}",
                actor=self.boss,
            )
            for i, depot in enumerate(self.depots)
        ]
        self.products = {code: Product.objects.get(code=code) for code in PRODUCTS}
        self.model: dict[tuple, int] = {}

    def held(self, place, product, state):
        return self.model.get((place, product, state), 0)

    def move(self, place, product, state, delta):
        self.model[(place, product, state)] = self.held(place, product, state) + delta

    def where(self, place):
        kind, i = place
        return {"depot": self.depots[i]} if kind == "depot" else {"sales_rep": self.reps[i]}

    def attempt(self, allowed, call):
        """call() succeeds when allowed; otherwise it is refused and writes nothing."""
        if allowed:
            return call()
        before = written()
        with pytest.raises(ValidationError):
            call()
        assert written() == before
        return None

    @staticmethod
    def lines_ok(lines):
        codes = [code for code, _ in lines]
        return len(set(codes)) == len(codes) and all(q >= 1 for _, q in lines)

    @rule(depot=st.integers(0, 1), product=st.sampled_from(PRODUCTS), quantity=st.integers(1, 30))
    def receive(self, depot, product, quantity):
        stock_receive(
            depot=self.depots[depot],
            product=self.products[product],
            quantity=quantity,
            actor=self.boss,
        )
        self.move(("depot", depot), product, "FULL", quantity)

    @rule(depot=st.integers(0, 1), product=st.sampled_from(PRODUCTS), quantity=st.integers(0, 15))
    def dispatch(self, depot, product, quantity):
        place = ("depot", depot)
        allowed = 1 <= quantity <= self.held(place, product, "EMPTY")
        self.attempt(
            allowed,
            lambda: empties_dispatch(
                depot=self.depots[depot],
                product=self.products[product],
                quantity=quantity,
                actor=self.boss,
                reference="DN-1",
            ),
        )
        if allowed:
            self.move(place, product, "EMPTY", -quantity)

    @rule(a_to_b=st.booleans(), state=st.sampled_from(STATES), lines=lines_of)
    def transfer(self, a_to_b, state, lines):
        source, target = (("depot", 0), ("depot", 1)) if a_to_b else (("depot", 1), ("depot", 0))
        allowed = self.lines_ok(lines) and all(
            q <= self.held(source, code, state) for code, q in lines
        )
        self.attempt(
            allowed,
            lambda: stock_transfer(
                from_depot=self.depots[source[1]],
                to_depot=self.depots[target[1]],
                lines=[{"product": self.products[c], "quantity": q} for c, q in lines],
                state=state,
                actor=self.boss,
            ),
        )
        if allowed:
            for code, q in lines:
                self.move(source, code, state, -q)
                self.move(target, code, state, q)

    @rule(rep=st.integers(0, 1), collect=st.booleans(), lines=lines_of)
    def load_or_return(self, rep, collect, lines):
        state = "FULL" if collect else "EMPTY"
        depot, vehicle = ("depot", rep), ("vehicle", rep)
        source, target = (depot, vehicle) if collect else (vehicle, depot)
        allowed = self.lines_ok(lines) and all(
            q <= self.held(source, code, state) for code, q in lines
        )
        self.attempt(
            allowed,
            lambda: distribution_post(
                sales_rep=self.reps[rep],
                depot=self.depots[rep],
                kind="COLLECTION" if collect else "EMPTY_RETURN",
                lines=[{"product": self.products[c], "quantity": q} for c, q in lines],
                actor=self.boss,
            ),
        )
        if allowed:
            for code, q in lines:
                self.move(source, code, state, -q)
                self.move(target, code, state, q)

    @rule(
        place=st.sampled_from(PLACES),
        product=st.sampled_from(PRODUCTS),
        state=st.sampled_from(STATES),
        quantity=st.integers(0, 10),
        cause=st.sampled_from(["DAMAGED", "LOST", "CONDEMNED"]),
    )
    def write_off(self, place, product, state, quantity, cause):
        allowed = 1 <= quantity <= self.held(place, product, state)
        self.attempt(
            allowed,
            lambda: stock_write_off(
                product=self.products[product],
                state=state,
                quantity=quantity,
                cause=cause,
                reason="found in the yard",
                actor=self.boss,
                **self.where(place),
            ),
        )
        if allowed:
            self.move(place, product, state, -quantity)

    @rule(
        place=st.sampled_from(PLACES),
        lines=st.lists(
            st.tuples(st.sampled_from(PRODUCTS), st.sampled_from(STATES), st.integers(0, 25)),
            min_size=1,
            max_size=4,
        ),
    )
    def count(self, place, lines):
        keys = [(code, state) for code, state, _ in lines]
        allowed = len(set(keys)) == len(keys)
        self.attempt(
            allowed,
            lambda: stock_count_post(
                lines=[
                    {"product": self.products[c], "state": s, "counted": n} for c, s, n in lines
                ],
                reason="count",
                actor=self.boss,
                **self.where(place),
            ),
        )
        if allowed:
            for code, state, counted in lines:
                self.move(place, code, state, counted - self.held(place, code, state))

    @invariant()
    def levels_match_the_model(self):
        for (place, product, state), quantity in self.model.items():
            held = stock_on_hand(product=self.products[product], state=state, **self.where(place))
            assert held == quantity, (place, product, state)

    @invariant()
    def no_negative_level_and_ledger_agrees(self):
        assert not StockLevel.objects.filter(quantity__lt=0).exists()
        assert list(ledger_differences()) == []

    @invariant()
    def cylinders_are_conserved(self):
        for product in self.products.values():
            mine = Q(depot__in=self.depots)  # the vehicles' stock is booked at their depot
            levels = StockLevel.objects.filter(mine, product=product)
            held = levels.aggregate(n=Sum("quantity"))["n"] or 0
            moves = StockMovement.objects.filter(mine, product=product)
            assert held == (
                total(moves, kind="RECEIPT")
                - total(moves, kind="PLANT_DISPATCH")
                + total(moves, kind="ADJUSTMENT", to_level__isnull=False)
                - total(moves, kind="ADJUSTMENT", from_level__isnull=False)
                - total(moves, kind="WRITE_OFF")
            ), product.code


@pytest.mark.django_db
def test_custody_state_machine():
    run_state_machine_as_test(
        CustodyMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
