"""Invariants 1, 2 and 10 under real concurrency (PostgreSQL, threads, committed data)."""

import random

import pytest
from django.core.exceptions import ValidationError

from stock.models import Distribution, StockLevel
from stock.selectors import ledger_differences, stock_on_hand
from stock.services import distribution_create, stock_adjust, stock_receive

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_fifty_collections_of_one_against_thirty(
    concurrently, north, cyl, head_office, user_factory
):
    reps = [user_factory("SALES", depots=[north]) for _ in range(5)]
    stock_receive(depot=north, product=cyl, quantity=30, actor=head_office)

    def collect(rep):
        return lambda: distribution_create(
            sales_rep=rep,
            depot=north,
            product=cyl,
            quantity=1,
            kind="COLLECTION",
            actor=head_office,
        )

    outcomes = concurrently([collect(reps[i % 5]) for i in range(50)])

    posted = [o for o in outcomes if isinstance(o, Distribution)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    others = [o for o in outcomes if not isinstance(o, (Distribution, ValidationError))]
    assert others == []
    assert (len(posted), len(refused)) == (30, 20)
    assert all(
        "Only 0 full 12.7KG cylinders at depot NORTH; 1 requested." in r.messages for r in refused
    )
    assert stock_on_hand(product=cyl, depot=north) == 0
    assert sum(stock_on_hand(product=cyl, sales_rep=r) for r in reps) == 30
    assert list(ledger_differences()) == []
    numbers = sorted(int(d.distribution_no.rsplit("-", 1)[1]) for d in posted)
    assert numbers == list(range(1, 31))


def test_first_receipts_at_a_new_location_make_one_level(concurrently, north, cyl, head_office):
    outcomes = concurrently(
        [
            lambda: stock_receive(depot=north, product=cyl, quantity=2, actor=head_office)
            for _ in range(20)
        ]
    )
    assert [type(o).__name__ for o in outcomes] == ["StockMovement"] * 20
    assert StockLevel.objects.filter(depot=north, product=cyl).count() == 1
    assert stock_on_hand(product=cyl, depot=north) == 40


def test_mixed_work_from_sixteen_threads_keeps_every_invariant(
    concurrently, north, cyl, nine, head_office, user_factory
):
    reps = [user_factory("SALES", depots=[north]) for _ in range(3)]
    for product in (cyl, nine):
        stock_receive(depot=north, product=product, quantity=20, actor=head_office)
        for rep in reps:
            stock_adjust(
                product=product,
                state="EMPTY",
                counted=5,
                reason="opening",
                actor=head_office,
                sales_rep=rep,
            )

    def job(seed):
        rng = random.Random(seed)

        def run():
            done = 0
            for _ in range(15):
                rep, product = rng.choice(reps), rng.choice((cyl, nine))
                action = rng.random()
                try:
                    if action < 0.45:
                        distribution_create(
                            sales_rep=rep,
                            depot=north,
                            product=product,
                            quantity=rng.randint(1, 4),
                            kind="COLLECTION",
                            actor=head_office,
                        )
                    elif action < 0.7:
                        distribution_create(
                            sales_rep=rep,
                            depot=north,
                            product=product,
                            quantity=rng.randint(1, 3),
                            kind="EMPTY_RETURN",
                            actor=head_office,
                        )
                    elif action < 0.85:
                        stock_receive(
                            depot=north,
                            product=product,
                            quantity=rng.randint(1, 5),
                            actor=head_office,
                        )
                    else:
                        stock_adjust(
                            product=product,
                            state=rng.choice(("FULL", "EMPTY")),
                            counted=rng.randint(0, 8),
                            reason="spot check",
                            actor=head_office,
                            sales_rep=rep,
                        )
                    done += 1
                except ValidationError:
                    pass
            return done

        return run

    outcomes = concurrently([job(seed) for seed in range(16)])
    assert all(isinstance(o, int) for o in outcomes), outcomes
    assert sum(outcomes) > 0
    assert not StockLevel.objects.filter(quantity__lt=0).exists()
    assert list(ledger_differences()) == []
