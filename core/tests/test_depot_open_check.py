"""The one "depot is closed" rule (core.services.depot_open_check), used by the user,
customer and stock services: same field, code and message everywhere."""

import pytest
from django.core.exceptions import ValidationError

from core.models import Depot
from core.services import depot_open_check, user_create
from sales.services import customer_create
from stock.services import stock_receive

pytestmark = pytest.mark.django_db


def refusal(call, *args, **kwargs) -> dict[str, list[tuple[str, str]]]:
    with pytest.raises(ValidationError) as exc:
        call(*args, **kwargs)
    return {
        field: [(e.code, e.messages[0]) for e in errors]
        for field, errors in exc.value.error_dict.items()
    }


def test_depot_open_check_names_the_closed_depots_on_its_field():
    open_, west, east = Depot(code="N"), Depot(code="WEST", is_active=False), Depot(code="EAST")
    east.is_active = False
    depot_open_check(open_)
    depot_open_check()
    assert refusal(depot_open_check, open_, west, east, field="depots") == {
        "depots": [("depot_inactive", "Depot WEST, EAST is closed (inactive).")]
    }
    assert refusal(depot_open_check, west, hint=": choose an open depot.") == {
        "depot": [("depot_inactive", "Depot WEST is closed (inactive): choose an open depot.")]
    }


def test_every_service_refuses_a_closed_depot_through_it(depot_factory, head_office, products):
    west = depot_factory("WEST", is_active=False)
    assert refusal(
        user_create,
        username="m",
        password="p",
        role="MANAGER",
        depots=[west],
        actor=head_office,
    ) == {"depots": [("depot_inactive", "Depot WEST is closed (inactive).")]}
    assert refusal(customer_create, code="C9", name="X", depot=west, actor=head_office) == {
        "depot": [("depot_inactive", "Depot WEST is closed (inactive): choose an open depot.")]
    }
    assert refusal(
        stock_receive, depot=west, product=products["9KG"], quantity=1, actor=head_office
    ) == {
        "depot": [
            (
                "depot_inactive",
                "Depot WEST is closed (inactive): reopen it (Depots) to move its stock.",
            )
        ]
    }
