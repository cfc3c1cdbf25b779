"""Random receipts, collections, returns and counts against a model of what stock should be.

Each step either succeeds exactly when the model says it may, or is refused and changes
nothing; after every step invariants 1 (no negative level) and 2 (levels = ledger) hold.
"""

import itertools

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from core.models import Depot
from core.services import user_bootstrap, user_create
from stock.models import Product, StockLevel
from stock.selectors import ledger_differences, stock_on_hand
from stock.services import distribution_create, stock_adjust, stock_receive

_ids = itertools.count(1)
PRODUCTS = ["9KG", "12.7KG", "50KG-L"]
STATES = ["FULL", "EMPTY"]


class StockMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        n = next(_ids)
        self.depot = Depot.objects.create(code=f"D{n}", name=f"Depot {n}")
        self.boss = user_bootstrap(username=f"boss{n}", password="x", role="ADMIN")
        self.reps = [
            user_create(
                username=f"r{n}_{i}",
                password="x",
                role="SALES",
                depots=[self.depot],
                vehicle_no=f"V{n}-{i}",
                actor=self.boss,
            )
            for i in range(2)
        ]
        self.products = {code: Product.objects.get(code=code) for code in PRODUCTS}
        self.model = {}  # (location, product, state) -> quantity; location "depot" or rep index

    def expected(self, location, product, state):
        return self.model.get((location, product, state), 0)

    def adjust(self, location, product, state, delta):
        self.model[(location, product, state)] = self.expected(location, product, state) + delta

    @rule(product=st.sampled_from(PRODUCTS), quantity=st.integers(-2, 25))
    def receive(self, product, quantity):
        if quantity < 1:
            with pytest.raises(ValidationError):
                stock_receive(
                    depot=self.depot,
                    product=self.products[product],
                    quantity=quantity,
                    actor=self.boss,
                )
            return
        stock_receive(
            depot=self.depot, product=self.products[product], quantity=quantity, actor=self.boss
        )
        self.adjust("depot", product, "FULL", quantity)

    @rule(
        rep=st.integers(0, 1),
        product=st.sampled_from(PRODUCTS),
        quantity=st.integers(1, 15),
        kind=st.sampled_from(["COLLECTION", "EMPTY_RETURN"]),
    )
    def distribute(self, rep, product, quantity, kind):
        state = "FULL" if kind == "COLLECTION" else "EMPTY"
        source, target = ("depot", rep) if kind == "COLLECTION" else (rep, "depot")
        call = lambda: distribution_create(  # noqa: E731
            sales_rep=self.reps[rep],
            depot=self.depot,
            product=self.products[product],
            quantity=quantity,
            kind=kind,
            actor=self.boss,
        )
        if self.expected(source, product, state) < quantity:
            with pytest.raises(ValidationError, match=f"; {quantity} requested"):
                call()
            return
        call()
        self.adjust(source, product, state, -quantity)
        self.adjust(target, product, state, quantity)

    @rule(
        location=st.sampled_from(["depot", 0, 1]),
        product=st.sampled_from(PRODUCTS),
        state=st.sampled_from(STATES),
        counted=st.integers(0, 30),
    )
    def count(self, location, product, state, counted):
        where = {"depot": self.depot} if location == "depot" else {"sales_rep": self.reps[location]}
        stock_adjust(
            product=self.products[product],
            state=state,
            counted=counted,
            reason="count",
            actor=self.boss,
            **where,
        )
        self.adjust(location, product, state, counted - self.expected(location, product, state))

    @invariant()
    def levels_match_the_model(self):
        for (location, product, state), quantity in self.model.items():
            where = (
                {"depot": self.depot} if location == "depot" else {"sales_rep": self.reps[location]}
            )
            assert stock_on_hand(product=self.products[product], state=state, **where) == quantity

    @invariant()
    def no_negative_level_and_ledger_agrees(self):
        assert not StockLevel.objects.filter(quantity__lt=0).exists()
        assert list(ledger_differences()) == []


@pytest.mark.django_db
def test_stock_state_machine():
    run_state_machine_as_test(
        StockMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
