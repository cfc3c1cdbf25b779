"""Fixes from the review of the custody screens: what each screen shows and offers, and
what its services refuse, as a clerk meets them."""

import pytest
from django.urls import reverse

from stock.services import stock_adjust, stock_receive, stock_transfer

pytestmark = pytest.mark.django_db

MOVEMENTS = "admin:stock_stockmovement_changelist"


@pytest.fixture
def stocked(north, south, cyl, nine, head_office):
    """NORTH: 30 full 12.7KG, 5 full 9KG, 12 empty 12.7KG. SOUTH: 4 full 12.7KG."""
    stock_receive(depot=north, product=cyl, quantity=30, actor=head_office)
    stock_receive(depot=north, product=nine, quantity=5, actor=head_office)
    stock_receive(depot=south, product=cyl, quantity=4, actor=head_office)
    stock_adjust(
        product=cyl, state="EMPTY", counted=12, reason="opening", actor=head_office, depot=north
    )


def _references(response) -> list[str]:
    assert response.status_code == 200
    return [m.reference for m in response.context["cl"].result_list]


# --- 1. Transfers into a depot are on its movement list ---------------------------------


def test_receiving_depot_manager_sees_the_transfer_into_it(
    client, user_factory, north, south, cyl, stocked, head_office
):
    south_manager = user_factory("MANAGER", depots=[south], username="southmgr")
    transfer = stock_transfer(
        from_depot=north, to_depot=south, lines=[{"product": cyl, "quantity": 3}], actor=head_office
    )
    client.force_login(south_manager)
    references = _references(client.get(reverse(MOVEMENTS)))
    assert transfer.number in references
    # NORTH's own rows stay out: only the SOUTH receipt and the transfer in.
    assert len(references) == 2


def test_depot_filter_lists_transfers_into_the_depot(
    client, north, south, cyl, stocked, head_office
):
    transfer = stock_transfer(
        from_depot=north, to_depot=south, lines=[{"product": cyl, "quantity": 3}], actor=head_office
    )
    client.force_login(head_office)
    url = reverse(MOVEMENTS)
    into_south = _references(client.get(url, {"depot__id__exact": south.pk}))
    assert transfer.number in into_south
    assert len(into_south) == 2  # SOUTH's receipt and the transfer in
    from_north = _references(client.get(url, {"depot__id__exact": north.pk}))
    assert transfer.number in from_north
    assert len(from_north) == 4  # two receipts, the opening count, the transfer out


def test_depot_filter_refuses_an_unknown_depot_without_an_error_page(client, head_office, stocked):
    client.force_login(head_office)
    response = client.get(reverse(MOVEMENTS), {"depot__id__exact": "9" * 30})
    assert response.status_code == 302  # the admin's "invalid filter" redirect (?e=1)
