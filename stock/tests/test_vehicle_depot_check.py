"""A vehicle's stock belongs to its representative's home depot: check_stock notices a
level labelled with another depot than the ledger built it at, or than the representative
works from; a posting never relabels a level; an empty vehicle moves with its
representative when head office changes their depot."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection

from core.models import User
from stock.models import StockLevel
from stock.selectors import ledger_differences, vehicle_depot_differences
from stock.services import distribution_create, stock_adjust, stock_receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(north, south, cyl, head_office, sales_rep):
    """NORTH's representative has collected 4 full cylinders at NORTH."""
    for depot in (north, south):
        stock_receive(depot=depot, product=cyl, quantity=10, actor=head_office)
    distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=4,
        kind="COLLECTION",
        actor=head_office,
    )
    return StockLevel.objects.get(sales_rep=sales_rep, product=cyl, state="FULL")


def sql(statement, params):
    """What a database superuser can do behind the services' back."""
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def check_stock_fails(capsys):
    with pytest.raises(SystemExit) as exc:
        call_command("check_stock")
    assert exc.value.code == 1
    return capsys.readouterr()


def test_a_clean_vehicle_passes(loaded, capsys):
    call_command("check_stock")
    assert "All 3 stock levels match the ledger." in capsys.readouterr().out
    assert vehicle_depot_differences() == []


def test_a_vehicle_level_relabelled_behind_the_ledger_is_named(loaded, south, capsys):
    sql("UPDATE stock_stocklevel SET depot_id = %s WHERE id = %s", [south.pk, loaded.pk])
    assert list(ledger_differences()) == []  # the quantities alone still agree
    captured = check_stock_fails(capsys)
    vehicle = f"vehicle {loaded.sales_rep.vehicle_no} (northrep) 12.7KG FULL"
    assert (
        f"DEPOT MISMATCH {vehicle}: labelled depot SOUTH, but the ledger put 4 of its "
        f"cylinders on it at depot NORTH (level id {loaded.pk})"
    ) in captured.out
    assert (
        f"DEPOT MISMATCH {vehicle}: labelled depot SOUTH, holds 4, but northrep works "
        f"from depot NORTH (level id {loaded.pk})"
    ) in captured.out
    assert "1 of 3 stock levels disagree" in captured.err


def test_a_representative_moved_behind_the_guard_is_named(loaded, sales_rep, north, south, capsys):
    """The state the old race left: NORTH cylinders on a SOUTH representative, with a
    ledger that agrees with the level (so a quantity replay alone passed)."""
    sql("UPDATE core_user_depots SET depot_id = %s WHERE user_id = %s", [south.pk, sales_rep.pk])
    captured = check_stock_fails(capsys)
    assert "labelled depot NORTH, holds 4, but northrep works from depot SOUTH" in captured.out


def test_a_posting_never_relabels_a_vehicle_level(
    loaded, sales_rep, north, south, cyl, head_office, capsys
):
    """The old race's second half: the next posting at SOUTH took the NORTH level and
    changed its depot, with no ledger row. Now it is refused and nothing changes."""
    sql("UPDATE core_user_depots SET depot_id = %s WHERE user_id = %s", [south.pk, sales_rep.pk])
    rep = User.objects.get(pk=sales_rep.pk)
    for post in (
        lambda: distribution_create(
            sales_rep=rep,
            depot=south,
            product=cyl,
            quantity=1,
            kind="COLLECTION",
            actor=head_office,
        ),
        lambda: stock_adjust(
            product=cyl, state="FULL", counted=2, reason="count", actor=head_office, sales_rep=rep
        ),
    ):
        with pytest.raises(ValidationError) as exc:
            post()
        assert "recorded at depot NORTH, but northrep works from depot SOUTH" in str(exc.value)
    loaded.refresh_from_db()
    assert (loaded.depot, loaded.quantity) == (north, 4)


def test_a_sale_never_relabels_a_vehicle_level(loaded, sales_rep, north, south, cyl, head_office):
    from sales.models import Customer
    from sales.services import rate_set, sale_post

    customer = Customer.objects.create(code="S1", name="South shop", depot=south)
    rate_set(customer=customer, product=cyl, rate="3000.00", actor=head_office)
    sql("UPDATE core_user_depots SET depot_id = %s WHERE user_id = %s", [south.pk, sales_rep.pk])
    rep = User.objects.get(pk=sales_rep.pk)
    with pytest.raises(ValidationError) as exc:
        sale_post(
            customer=customer,
            sales_rep=rep,
            actor=head_office,
            lines=[{"product": cyl, "quantity": 1, "empties_returned": 0}],
        )
    assert "recorded at depot NORTH" in str(exc.value)
    loaded.refresh_from_db()
    assert (loaded.depot, loaded.quantity) == (north, 4)


def test_an_empty_vehicle_moves_with_its_representative_at_the_change(
    loaded, sales_rep, south, cyl, head_office
):
    stock_adjust(
        product=cyl,
        state="FULL",
        counted=0,
        reason="returned",
        actor=head_office,
        sales_rep=sales_rep,
    )
    sales_rep.depots.set([south])
    loaded.refresh_from_db()
    assert (loaded.depot, loaded.quantity) == (south, 0)  # moved when the depot changed
    assert vehicle_depot_differences() == []


def test_a_vehicle_holding_stock_never_moves_with_a_depot_change(loaded, sales_rep, south):
    """Behind the guard (which refuses it in the admin): the move itself refuses too."""
    with pytest.raises(ValidationError, match="still holds 4"):
        sales_rep.depots.set([south])


def test_repair_moves_empty_levels_left_by_an_earlier_move(
    loaded, sales_rep, north, south, cyl, nine, head_office, capsys
):
    """A move made before vehicles moved with their representative left empty levels
    at the old depot; --repair-empty-vehicles moves them, never a level with stock."""
    stock_adjust(
        product=cyl,
        state="FULL",
        counted=0,
        reason="returned",
        actor=head_office,
        sales_rep=sales_rep,
    )
    sql("UPDATE core_user_depots SET depot_id = %s WHERE user_id = %s", [south.pk, sales_rep.pk])
    captured = check_stock_fails(capsys)
    assert "holds 0, but northrep works from depot SOUTH" in captured.out
    assert "--repair-empty-vehicles moves it" in captured.out
    call_command("check_stock", "--repair-empty-vehicles")
    out = capsys.readouterr().out
    assert "Moved 1 empty vehicle levels to their home depot." in out
    assert "All 3 stock levels match the ledger." in out
    loaded.refresh_from_db()
    assert loaded.depot == south


def test_an_empty_level_left_at_the_old_depot_follows_at_the_next_posting(
    loaded, sales_rep, north, south, cyl, head_office, capsys
):
    """After the upgrade, a representative moved earlier may still have empty vehicle
    levels at the old depot. Their next collection is not refused for it: the empty level
    follows them (it holds no cylinders, so no depot's books change)."""
    stock_adjust(
        product=cyl,
        state="FULL",
        counted=0,
        reason="returned",
        actor=head_office,
        sales_rep=sales_rep,
    )
    sql("UPDATE core_user_depots SET depot_id = %s WHERE user_id = %s", [south.pk, sales_rep.pk])
    distribution_create(
        sales_rep=sales_rep,
        depot=south,
        product=cyl,
        quantity=3,
        kind="COLLECTION",
        actor=head_office,
    )
    loaded.refresh_from_db()
    assert (loaded.depot, loaded.quantity) == (south, 3)
    call_command("check_stock")
    assert "match the ledger" in capsys.readouterr().out
