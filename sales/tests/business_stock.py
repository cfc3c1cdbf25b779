"""The stock half of the whole-business state machine (test_business_stateful): the rules
of the filling plant, depots and vehicles (receipts, empties to the plant, transfers,
load sheets and empty returns, write-offs, count sheets), the model of stock per place,
and the step every rule takes: call the service, or, when the model says it is refused,
see it refused with the code expected and nothing written.

A mixin: BusinessMachine provides depots, reps, products, boss and stock."""

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Q
from hypothesis import strategies as st
from hypothesis.stateful import rule

from sales.tests.business_model import footprint
from stock.models import StockLevel
from stock.services import (
    distribution_post,
    empties_dispatch,
    stock_count_post,
    stock_receive,
    stock_transfer,
    stock_write_off,
)

CYLINDERS = ["9KG", "12.7KG"]
STATES = ["FULL", "EMPTY"]
DEPOTS = ["A", "B"]
REPS = [0, 1]  # both work from depot A
SHORT = {"insufficient_stock"}

quantities = st.integers(1, 8)
some = st.dictionaries(st.sampled_from(CYLINDERS), quantities, min_size=1, max_size=2)
places = st.sampled_from(["A", "B", 0, 1])
products = st.sampled_from(CYLINDERS)
depots = st.sampled_from(DEPOTS)
states = st.sampled_from(STATES)
counts = st.dictionaries(st.tuples(products, states), st.integers(0, 12), min_size=1, max_size=4)


def codes_of(error: ValidationError) -> set[str]:
    if hasattr(error, "error_dict"):
        return {e.code for errors in error.error_dict.values() for e in errors}
    return {e.code for e in error.error_list}


class StockRules:
    stock: dict[tuple[object, str, str], int]

    # --- the model and the step ---------------------------------------------------------

    def at(self, place, product, state):
        return self.stock.get((place, product, state), 0)

    def move(self, place, product, state, delta):
        self.stock[(place, product, state)] = self.at(place, product, state) + delta

    def where(self, place):
        if place in DEPOTS:
            return {"depot": self.depots[place]}
        return {"sales_rep": self.reps[place]}

    def lines(self, items):
        return [{"product": self.products[p], "quantity": q} for p, q in items.items()]

    def attempt(self, codes, call):
        """Call the service. When the model says it is refused (`codes` not empty):
        refused with one of `codes`, and nothing written; returns None."""
        if not codes:
            return call()
        before = footprint()
        with pytest.raises(ValidationError) as refusal:
            call()
        assert codes_of(refusal.value) & set(codes), (codes, refusal.value)
        assert footprint() == before, f"refused ({codes}) but wrote"
        return None

    # --- the filling plant, depots, vehicles ----------------------------------------------

    @rule(depot=depots, product=products, quantity=quantities)
    def receive(self, depot, product, quantity):
        stock_receive(
            depot=self.depots[depot],
            product=self.products[product],
            quantity=quantity * 3,
            actor=self.boss,
        )
        self.move(depot, product, "FULL", quantity * 3)

    @rule(depot=depots, product=products, quantity=quantities)
    def dispatch(self, depot, product, quantity):
        done = self.attempt(
            SHORT if self.at(depot, product, "EMPTY") < quantity else (),
            lambda: empties_dispatch(
                depot=self.depots[depot],
                product=self.products[product],
                quantity=quantity,
                actor=self.boss,
                reference="DN-1",
            ),
        )
        if done:
            self.move(depot, product, "EMPTY", -quantity)

    @rule(source=depots, state=states, items=some)
    def transfer(self, source, state, items):
        target = "B" if source == "A" else "A"
        done = self.attempt(
            SHORT if any(self.at(source, p, state) < q for p, q in items.items()) else (),
            lambda: stock_transfer(
                from_depot=self.depots[source],
                to_depot=self.depots[target],
                lines=self.lines(items),
                state=state,
                actor=self.boss,
            ),
        )
        for product, quantity in items.items() if done else ():
            self.move(source, product, state, -quantity)
            self.move(target, product, state, quantity)

    @rule(
        rep=st.sampled_from(REPS), kind=st.sampled_from(["COLLECTION", "EMPTY_RETURN"]), items=some
    )
    def distribute(self, rep, kind, items):
        state = "FULL" if kind == "COLLECTION" else "EMPTY"
        source, target = ("A", rep) if kind == "COLLECTION" else (rep, "A")
        done = self.attempt(
            SHORT if any(self.at(source, p, state) < q for p, q in items.items()) else (),
            lambda: distribution_post(
                sales_rep=self.reps[rep],
                depot=self.depots["A"],
                kind=kind,
                lines=self.lines(items),
                actor=self.boss,
            ),
        )
        for product, quantity in items.items() if done else ():
            self.move(source, product, state, -quantity)
            self.move(target, product, state, quantity)

    @rule(place=places, product=products, state=states, quantity=st.integers(1, 3))
    def write_off(self, place, product, state, quantity):
        done = self.attempt(
            SHORT if self.at(place, product, state) < quantity else (),
            lambda: stock_write_off(
                product=self.products[product],
                state=state,
                quantity=quantity,
                cause="DAMAGED",
                reason="valve broken",
                actor=self.boss,
                **self.where(place),
            ),
        )
        if done:
            self.move(place, product, state, -quantity)

    @rule(place=places, counted=counts)
    def count_sheet(self, place, counted):
        stock_count_post(
            lines=[
                {"product": self.products[p], "state": s, "counted": c}
                for (p, s), c in counted.items()
            ],
            reason="monthly count",
            actor=self.boss,
            **self.where(place),
        )
        for (product, state), quantity in counted.items():
            self.move(place, product, state, quantity - self.at(place, product, state))

    # --- after every step (BusinessMachine's invariant) ---------------------------------

    def stock_matches(self):
        """Every level of the machine's depots and vehicles is what the model says."""
        depots = {depot.pk: code for code, depot in self.depots.items()}
        reps = {rep.pk: index for index, rep in enumerate(self.reps)}
        found: dict[tuple[object, str, str], int] = {}
        levels = StockLevel.objects.filter(Q(depot__in=depots) | Q(sales_rep__in=reps))
        for depot, rep, product, state, quantity in levels.values_list(
            "depot", "sales_rep", "product__code", "state", "quantity"
        ):
            place = depots[depot] if rep is None else reps[rep]
            found[(place, product, state)] = found.get((place, product, state), 0) + quantity
        expected = {key: quantity for key, quantity in self.stock.items() if quantity}
        assert {key: q for key, q in found.items() if q} == expected
