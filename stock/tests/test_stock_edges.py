"""Edges of the stock services and selectors: a distribution without a depot; two
distributions racing with one Idempotency-Key (the loser returns the winner's, or is
refused); an insert that fails for another reason is not hidden; a depot's staff changed
from the depot's side moves an empty vehicle too; stock_on_hand names one place; a
vehicle level of someone no longer a representative is named."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

import stock.services.distributions as distributions
from core.models import User
from stock.models import Distribution, StockLevel
from stock.selectors import stock_on_hand, vehicle_depot_differences
from stock.services import distribution_create, stock_adjust, stock_receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked(north, cyl, head_office):
    stock_receive(depot=north, product=cyl, quantity=10, actor=head_office)
    return cyl


def collect(rep, depot, product, actor, quantity=2, key=None):
    return distribution_create(
        sales_rep=rep,
        depot=depot,
        product=product,
        quantity=quantity,
        kind="COLLECTION",
        actor=actor,
        idempotency_key=key,
    )


def test_a_distribution_names_its_depot(sales_rep, stocked, head_office):
    with pytest.raises(ValidationError) as refused:
        collect(sales_rep, None, stocked, head_office)

    assert [e.code for e in refused.value.error_dict["depot"]] == ["required"]


def _keyed_unseen(monkeypatch, misses):
    """The first `misses` reads of a key find nothing (the other request had not
    committed yet); later reads see it."""
    real = distributions._distribution_keyed
    calls = iter(range(1_000))
    monkeypatch.setattr(
        distributions,
        "_distribution_keyed",
        lambda actor, key: None if next(calls) < misses else real(actor, key),
    )


@pytest.mark.parametrize(
    "misses", [1, 2], ids=["seen after the locks", "seen after the insert failed"]
)
def test_the_loser_of_a_key_race_returns_the_winners_distribution(
    monkeypatch, north, sales_rep, stocked, head_office, misses
):
    first = collect(sales_rep, north, stocked, head_office, key="k-1")
    _keyed_unseen(monkeypatch, misses)

    again = collect(sales_rep, north, stocked, head_office, key="k-1")

    assert again.pk == first.pk
    assert Distribution.objects.count() == 1
    assert stock_on_hand(product=stocked, sales_rep=sales_rep) == 2


def test_the_loser_with_another_distribution_is_refused(
    monkeypatch, north, sales_rep, stocked, head_office
):
    collect(sales_rep, north, stocked, head_office, key="k-2")
    _keyed_unseen(monkeypatch, 2)

    with pytest.raises(ValidationError) as refused:
        collect(sales_rep, north, stocked, head_office, quantity=3, key="k-2")

    assert [e.code for e in refused.value.error_dict["idempotency_key"]] == [
        "idempotency_key_reused"
    ]
    assert stock_on_hand(product=stocked, sales_rep=sales_rep) == 2


def test_an_insert_that_fails_for_another_reason_is_not_hidden(
    monkeypatch, north, sales_rep, stocked, head_office
):
    taken = collect(sales_rep, north, stocked, head_office).distribution_no
    monkeypatch.setattr(distributions, "document_number_next", lambda **kwargs: taken)

    with pytest.raises(IntegrityError):
        collect(sales_rep, north, stocked, head_office)


def test_staff_changed_from_the_depots_side_moves_an_empty_vehicle(
    north, south, sales_rep, stocked, head_office
):
    collect(sales_rep, north, stocked, head_office)
    stock_adjust(
        product=stocked,
        state="FULL",
        counted=0,
        reason="returned",
        actor=head_office,
        sales_rep=sales_rep,
    )
    level = StockLevel.objects.get(sales_rep=sales_rep, product=stocked, state="FULL")

    south.staff.add(sales_rep)  # NORTH and SOUTH: the home is the first by code
    north.staff.remove(sales_rep)
    level.refresh_from_db()
    assert level.depot == south

    south.staff.clear()  # from the depot's side, no ids are given: nothing to move
    level.refresh_from_db()
    assert level.depot == south


def test_stock_on_hand_names_a_depot_or_a_vehicle(north, sales_rep, stocked):
    with pytest.raises(ValidationError, match="Name either a depot or"):
        stock_on_hand(product=stocked)
    with pytest.raises(ValidationError, match="Name either a depot or"):
        stock_on_hand(product=stocked, depot=north, sales_rep=sales_rep)


def test_a_vehicle_of_someone_no_longer_a_representative_is_named(
    north, sales_rep, stocked, head_office
):
    collect(sales_rep, north, stocked, head_office, quantity=3)
    User.objects.filter(pk=sales_rep.pk).update(role="MANAGER")  # behind the services

    ((kind, level, depot, quantity),) = vehicle_depot_differences()

    assert (kind, level.sales_rep_id, depot, quantity) == ("home", sales_rep.pk, None, 3)
