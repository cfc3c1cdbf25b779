"""A representative's depot changed by head office while they post (PostgreSQL, threads).

The vehicle guard (a representative whose vehicle holds stock keeps their depot) and every
posting that reads the home depot lock the representative's row: the change FOR NO KEY
UPDATE before it looks at the vehicle, the posting FOR SHARE before it reads the depot.
Whatever the timing, either the change is refused (the vehicle holds stock) or the
posting sees the new depot; never NORTH cylinders on a SOUTH representative.
"""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

import core.services.users
import stock.services
from core.models import User
from stock.models import Distribution, StockLevel
from stock.selectors import ledger_differences, vehicle_depot_differences
from stock.services import distribution_create, stock_adjust, stock_receive

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

HOLD = 0.6  # seconds one side holds its transaction open while the other starts


@pytest.fixture
def depots_stocked(north, south, cyl, head_office):
    for depot in (north, south):
        stock_receive(depot=depot, product=cyl, quantity=100, actor=head_office)


def depot_change(rep, depot, head_office):
    """Head office moves `rep` to `depot` through the admin's user form (the real path:
    the form's checks, then the save, in one transaction). True when it was saved."""
    client = Client()
    client.force_login(head_office)
    response = client.post(
        reverse("admin:core_user_change", args=[rep.pk]),
        {
            "username": rep.username,
            "first_name": "",
            "last_name": "",
            "email": "",
            "role": "SALES",
            "depots": [depot.pk],
            "vehicle_no": rep.vehicle_no,
            "is_active": "on",
        },
    )
    if response.status_code == 302:
        return True
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors.as_text()
    assert "vehicle still holds" in errors, errors
    return False


def collect(rep, depot, cyl, head_office, quantity=5):
    return distribution_create(
        sales_rep=rep,
        depot=depot,
        product=cyl,
        quantity=quantity,
        kind="COLLECTION",
        actor=head_office,
    )


def assert_vehicle_belongs_to_home_depot(rep, capsys=None):
    rep = User.objects.get(pk=rep.pk)
    home = rep.home_depot
    holding = StockLevel.objects.filter(sales_rep=rep, quantity__gt=0)
    assert [(lv.depot.code, lv.quantity) for lv in holding if lv.depot_id != home.pk] == []
    assert list(ledger_differences()) == []
    assert list(vehicle_depot_differences()) == []
    call_command("check_stock")  # exits 1 (SystemExit) on any difference


def test_a_depot_change_during_a_collection_waits_for_it_and_is_refused(
    concurrently, monkeypatch, depots_stocked, north, south, cyl, head_office, sales_rep
):
    """The collection has read NORTH and holds its transaction open; head office saves
    SOUTH meanwhile. Without the lock the guard saw an empty vehicle and let it through."""
    home_read = threading.Event()
    real_levels_lock = stock.services.distributions.levels_lock

    def slow_levels_lock(keys):
        levels = real_levels_lock(keys)
        home_read.set()
        time.sleep(HOLD)
        return levels

    monkeypatch.setattr(stock.services.distributions, "levels_lock", slow_levels_lock)

    def change():
        assert home_read.wait(10)
        return depot_change(sales_rep, south, head_office)

    collected, changed = concurrently([lambda: collect(sales_rep, north, cyl, head_office), change])
    assert isinstance(collected, Distribution), collected
    assert changed is False  # refused: the vehicle holds 5 NORTH cylinders
    assert User.objects.get(pk=sales_rep.pk).home_depot == north
    assert_vehicle_belongs_to_home_depot(sales_rep)


def test_a_collection_during_a_depot_change_waits_for_it_and_sees_the_new_depot(
    concurrently, monkeypatch, depots_stocked, north, south, cyl, head_office, sales_rep
):
    """Head office's change has passed the guard and holds its transaction open; the
    collection (asked at NORTH) starts meanwhile. Without the lock it read NORTH."""
    checked = threading.Event()
    real_guards = list(core.services.users.assignment_guards)

    def slow_guard(**kwargs):
        for guard in real_guards:
            guard(**kwargs)
        checked.set()
        time.sleep(HOLD)

    monkeypatch.setattr(core.services.users, "assignment_guards", [slow_guard])

    def collection():
        assert checked.wait(10)
        return collect(sales_rep, north, cyl, head_office)

    changed, collected = concurrently(
        [lambda: depot_change(sales_rep, south, head_office), collection]
    )
    assert changed is True
    assert isinstance(collected, ValidationError), collected
    assert "works from depot SOUTH, not NORTH" in str(collected)
    assert User.objects.get(pk=sales_rep.pk).home_depot == south
    assert not StockLevel.objects.filter(sales_rep=sales_rep, quantity__gt=0).exists()
    assert_vehicle_belongs_to_home_depot(sales_rep)
    # The representative now collects at SOUTH, on the same (empty) vehicle.
    collect(sales_rep, south, cyl, head_office)
    assert_vehicle_belongs_to_home_depot(sales_rep)


def test_a_vehicle_count_during_a_depot_change_is_serialised_too(
    concurrently, monkeypatch, depots_stocked, north, south, cyl, head_office, sales_rep
):
    """A count that finds cylinders on an empty vehicle is a posting at the home depot."""
    home_read = threading.Event()
    real_levels_lock = stock.services.stock.levels_lock

    def slow_levels_lock(keys):
        levels = real_levels_lock(keys)
        home_read.set()
        time.sleep(HOLD)
        return levels

    monkeypatch.setattr(stock.services.stock, "levels_lock", slow_levels_lock)

    def count():
        return stock_adjust(
            product=cyl,
            state="FULL",
            counted=3,
            reason="found on the vehicle",
            actor=head_office,
            sales_rep=sales_rep,
        )

    def change():
        assert home_read.wait(10)
        return depot_change(sales_rep, south, head_office)

    counted, changed = concurrently([count, change])
    assert not isinstance(counted, Exception), counted
    assert changed is False
    assert_vehicle_belongs_to_home_depot(sales_rep)


def test_racing_collections_and_depot_changes_never_mix_depots(
    concurrently, depots_stocked, north, south, cyl, head_office, sales_rep
):
    """No injected delays: both released at once, again and again, in both directions."""
    here, there = north, south
    outcomes = set()
    for _ in range(12):
        collected, changed = concurrently(
            [
                lambda here=here: collect(sales_rep, here, cyl, head_office, quantity=1),
                lambda there=there: depot_change(sales_rep, there, head_office),
            ]
        )
        assert not isinstance(changed, Exception), changed
        assert isinstance(collected, (Distribution, ValidationError)), collected
        # exactly one of them went through
        assert isinstance(collected, Distribution) != changed
        outcomes.add("collected" if changed is False else "moved")
        assert_vehicle_belongs_to_home_depot(sales_rep)
        if changed is False:  # empty the vehicle so that the next round can move it
            stock_adjust(
                product=cyl,
                state="FULL",
                counted=0,
                reason="back to the depot",
                actor=head_office,
                sales_rep=sales_rep,
            )
        else:
            here, there = there, here
    assert_vehicle_belongs_to_home_depot(sales_rep)
