"""The demo seed's cylinder custody: reorder levels with EAST below its 50KG-L minimum,
a transfer, empties sent to the filling plant; posted once."""

import pytest
from django.core.management import call_command

from stock.models import MovementKind, ReorderLevel, StockMovement, Transfer
from stock.selectors import ledger_differences, low_stock

pytestmark = pytest.mark.django_db


def test_the_demo_has_reorder_levels_a_low_depot_a_transfer_and_dispatches(capsys):
    call_command("seed_demo", "--force")
    out = capsys.readouterr().out
    assert "Custody: 7 reorder levels, 1 transfer between depots (EAST to NORTH), 3 " in out
    low = {(r["depot"].code, r["product"].code): (r["full"], r["minimum"]) for r in low_stock()}
    assert low[("EAST", "50KG-L")] == (18, 25)
    transfer = Transfer.objects.get()
    assert (transfer.from_depot.code, transfer.to_depot.code) == ("EAST", "NORTH")
    dispatched = StockMovement.objects.filter(kind=MovementKind.PLANT_DISPATCH)
    assert sorted(dispatched.values_list("reference", flat=True)) == [
        "DN-DEMO-0001",
        "DN-DEMO-0002",
        "DN-DEMO-0003",
    ]
    assert ledger_differences() == []

    call_command("seed_demo", "--force")
    assert "Custody:" not in capsys.readouterr().out
    assert ReorderLevel.objects.count() == 7
    assert Transfer.objects.count() == 1
    assert dispatched.count() == 3
