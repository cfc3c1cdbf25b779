"""/api/me/stock/: what each role sees of the stock levels."""

import pytest
from rest_framework.test import APIClient

from stock.services import distribution_create, stock_adjust, stock_receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def levels(north, south, cyl, nine, head_office, sales_rep, user_factory):
    """NORTH: 30 full 12.7KG, 5 of them on sales_rep's vehicle, 2 empties on it.
    SOUTH: 40 full 9KG, 4 of them on southrep's vehicle."""
    south_rep = user_factory("SALES", depots=[south], username="southrep")
    stock_receive(depot=north, product=cyl, quantity=30, actor=head_office)
    stock_receive(depot=south, product=nine, quantity=40, actor=head_office)
    for rep, depot, product, quantity in ((sales_rep, north, cyl, 5), (south_rep, south, nine, 4)):
        distribution_create(
            sales_rep=rep,
            depot=depot,
            product=product,
            quantity=quantity,
            kind="COLLECTION",
            actor=head_office,
        )
    stock_adjust(
        product=cyl,
        state="EMPTY",
        counted=2,
        reason="count",
        actor=head_office,
        sales_rep=sales_rep,
    )
    return south_rep


def my_stock(user):
    client = APIClient()
    client.force_authenticate(user)
    response = client.get("/api/me/stock/")
    assert response.status_code == 200
    return [
        (row["location"], row["depot"], row["product"], row["state"], row["quantity"])
        for row in response.data
    ]


NORTH_DEPOT = [("depot", "NORTH", "12.7KG", "FULL", 25)]
NORTH_VEHICLE = [
    ("vehicle", "NORTH", "12.7KG", "EMPTY", 2),
    ("vehicle", "NORTH", "12.7KG", "FULL", 5),
]
SOUTH_DEPOT = [("depot", "SOUTH", "9KG", "FULL", 36)]
SOUTH_VEHICLE = [("vehicle", "SOUTH", "9KG", "FULL", 4)]


def test_a_representative_sees_their_vehicle_and_home_depot(sales_rep, levels):
    assert sorted(my_stock(sales_rep)) == sorted(NORTH_DEPOT + NORTH_VEHICLE)


def test_another_representative_sees_only_theirs(levels):
    assert sorted(my_stock(levels)) == sorted(SOUTH_DEPOT + SOUTH_VEHICLE)


def test_a_manager_sees_their_depots_and_its_vehicles(manager, levels):
    assert sorted(my_stock(manager)) == sorted(NORTH_DEPOT + NORTH_VEHICLE)


def test_head_office_sees_every_level(head_office, levels):
    assert sorted(my_stock(head_office)) == sorted(
        NORTH_DEPOT + NORTH_VEHICLE + SOUTH_DEPOT + SOUTH_VEHICLE
    )


def test_a_representative_who_is_also_a_superuser_still_sees_their_own(sales_rep, levels):
    sales_rep.is_superuser = True
    sales_rep.save()
    assert sorted(my_stock(sales_rep)) == sorted(NORTH_DEPOT + NORTH_VEHICLE)


def test_depots_come_in_code_order(head_office, levels):
    depots = [row for row in my_stock(head_office) if row[0] == "depot"]
    assert depots == NORTH_DEPOT + SOUTH_DEPOT
