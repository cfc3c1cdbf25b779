"""stock_receive, distribution_create, stock_adjust and stock_on_hand."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import AuditLog
from stock.models import Distribution, StockLevel, StockMovement
from stock.selectors import ledger_differences, stock_on_hand
from stock.services import distribution_create, stock_adjust, stock_receive

pytestmark = pytest.mark.django_db


def written():
    """Everything a service writes, to prove a refusal wrote nothing."""
    return (
        StockMovement.objects.count(),
        Distribution.objects.count(),
        AuditLog.objects.count(),
        list(StockLevel.objects.order_by("pk").values_list("quantity", flat=True)),
    )


def collect(rep, depot, product, quantity, actor, kind="COLLECTION"):
    return distribution_create(
        sales_rep=rep, depot=depot, product=product, quantity=quantity, kind=kind, actor=actor
    )


# --- stock_receive -------------------------------------------------------------------


def test_receive_adds_full_stock_with_ledger_and_audit(north, cyl, head_office):
    movement = stock_receive(depot=north, product=cyl, quantity=30, actor=head_office, note="L1")
    assert stock_on_hand(product=cyl, depot=north) == 30
    assert (movement.kind, movement.quantity, movement.to_level.quantity) == ("RECEIPT", 30, 30)
    entry = AuditLog.objects.get()
    assert (entry.action, entry.actor, entry.depot) == ("stock_receive", head_office, north)
    assert entry.data["quantity"] == 30
    assert entry.data["balance"] == 30


def test_receipts_accumulate(north, cyl, head_office):
    stock_receive(depot=north, product=cyl, quantity=30, actor=head_office)
    stock_receive(depot=north, product=cyl, quantity=12, actor=head_office)
    assert stock_on_hand(product=cyl, depot=north) == 42
    assert StockLevel.objects.count() == 1


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (0, "above zero; got 0"),
        (-3, "above zero; got -3"),
        ("ten", "whole number; got 'ten'"),
        (2.5, "whole number; got 2.5"),
        (True, "whole number; got True"),
    ],
)
def test_receive_refuses_bad_quantities(north, cyl, head_office, quantity, message):
    before = written()
    with pytest.raises(ValidationError) as exc:
        stock_receive(depot=north, product=cyl, quantity=quantity, actor=head_office)
    assert message in exc.value.message_dict["quantity"][0]
    assert written() == before


def test_receive_refuses_metered_product_closed_depot_inactive_product(
    north, depot_factory, cyl, bulk, head_office
):
    closed = depot_factory("WEST", is_active=False)
    with pytest.raises(ValidationError, match="sold by meter reading"):
        stock_receive(depot=north, product=bulk, quantity=1, actor=head_office)
    with pytest.raises(ValidationError, match="Depot WEST is closed"):
        stock_receive(depot=closed, product=cyl, quantity=1, actor=head_office)
    cyl.is_active = False
    cyl.save()
    with pytest.raises(ValidationError, match="no longer sold"):
        stock_receive(depot=north, product=cyl, quantity=1, actor=head_office)
    assert StockMovement.objects.count() == 0


def test_manager_acts_only_for_their_depots(manager, south, north, cyl):
    stock_receive(depot=north, product=cyl, quantity=1, actor=manager)
    with pytest.raises(PermissionDenied, match="does not work for depot SOUTH"):
        stock_receive(depot=south, product=cyl, quantity=1, actor=manager)


def test_sales_rep_cannot_receive_depot_stock(sales_rep, north, cyl):
    with pytest.raises(PermissionDenied):
        stock_receive(depot=north, product=cyl, quantity=1, actor=sales_rep)


# --- distribution_create ---------------------------------------------------------------


def test_collection_moves_full_from_depot_to_vehicle(north, cyl, head_office, sales_rep):
    stock_receive(depot=north, product=cyl, quantity=30, actor=head_office)
    dist = collect(sales_rep, north, cyl, 12, head_office)
    assert stock_on_hand(product=cyl, depot=north) == 18
    assert stock_on_hand(product=cyl, sales_rep=sales_rep) == 12
    movement = StockMovement.objects.get(kind="COLLECTION")
    assert movement.reference == dist.distribution_no
    assert (movement.doc_type, movement.doc_id) == ("stock.distribution", dist.pk)
    assert movement.from_level.sales_rep is None
    assert movement.to_level.sales_rep == sales_rep
    assert AuditLog.objects.filter(action="distribution_create", object_id=str(dist.pk)).exists()


def test_distribution_numbers_are_consecutive_per_year(north, cyl, head_office, sales_rep):
    from django.utils import timezone

    stock_receive(depot=north, product=cyl, quantity=30, actor=head_office)
    numbers = [collect(sales_rep, north, cyl, 1, head_office).distribution_no for _ in range(3)]
    year = timezone.localdate().year
    assert numbers == [f"DST-{year}-00000{i}" for i in (1, 2, 3)]


def test_empty_return_moves_empties_from_vehicle_to_depot(north, cyl, head_office, sales_rep):
    stock_adjust(
        product=cyl,
        state="EMPTY",
        counted=8,
        reason="opening",
        actor=head_office,
        sales_rep=sales_rep,
    )
    collect(sales_rep, north, cyl, 5, head_office, kind="EMPTY_RETURN")
    assert stock_on_hand(product=cyl, state="EMPTY", sales_rep=sales_rep) == 3
    assert stock_on_hand(product=cyl, state="EMPTY", depot=north) == 5


def test_collection_larger_than_stock_is_refused_whole(north, cyl, head_office, sales_rep):
    stock_receive(depot=north, product=cyl, quantity=3, actor=head_office)
    before = written()
    with pytest.raises(ValidationError) as exc:
        collect(sales_rep, north, cyl, 5, head_office)
    assert exc.value.messages == ["Only 3 full 12.7KG cylinders at depot NORTH; 5 requested."]
    assert written() == before


def test_return_of_more_empties_than_on_vehicle_names_the_vehicle(
    north, cyl, head_office, sales_rep
):
    with pytest.raises(ValidationError) as exc:
        collect(sales_rep, north, cyl, 2, head_office, kind="EMPTY_RETURN")
    assert exc.value.messages == [
        f"Only 0 empty 12.7KG cylinders on vehicle {sales_rep.vehicle_no} "
        f"({sales_rep.username}); 2 requested."
    ]


def test_a_refused_distribution_leaves_no_gap_in_numbers(north, cyl, head_office, sales_rep):
    stock_receive(depot=north, product=cyl, quantity=1, actor=head_office)
    with pytest.raises(ValidationError):
        collect(sales_rep, north, cyl, 5, head_office)
    assert collect(sales_rep, north, cyl, 1, head_office).distribution_no.endswith("-000001")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"kind": "SALE"}, "kind", "COLLECTION or EMPTY_RETURN; got 'SALE'"),
        ({"quantity": 0}, "quantity", "above zero"),
        ({"depot": "south"}, "depot", "works from depot NORTH, not SOUTH"),
        ({"sales_rep": "manager"}, "sales_rep", "is not an active sales representative"),
        ({"product": "bulk"}, "product", "sold by meter reading"),
    ],
)
def test_distribution_input_errors_name_the_field(
    north, south, cyl, bulk, head_office, sales_rep, manager, change, field, message
):
    args = {
        "sales_rep": sales_rep,
        "depot": north,
        "product": cyl,
        "quantity": 1,
        "kind": "COLLECTION",
        "actor": head_office,
    }
    named = {"south": south, "manager": manager, "bulk": bulk}
    args.update({k: named.get(v, v) if isinstance(v, str) else v for k, v in change.items()})
    with pytest.raises(ValidationError) as exc:
        distribution_create(**args)
    assert message in exc.value.message_dict[field][0]
    assert Distribution.objects.count() == 0


def test_sales_rep_may_collect_only_for_themselves(north, cyl, head_office, user_factory):
    rep_a = user_factory("SALES", depots=[north])
    rep_b = user_factory("SALES", depots=[north])
    stock_receive(depot=north, product=cyl, quantity=5, actor=head_office)
    collect(rep_a, north, cyl, 1, rep_a)
    with pytest.raises(PermissionDenied, match="only for themselves"):
        collect(rep_b, north, cyl, 1, rep_a)


# --- stock_adjust --------------------------------------------------------------------


@pytest.mark.parametrize(("counted", "quantity", "side"), [(25, 5, "to"), (17, 3, "from")])
def test_count_records_the_difference(north, cyl, head_office, counted, quantity, side):
    stock_receive(depot=north, product=cyl, quantity=20, actor=head_office)
    movement = stock_adjust(
        product=cyl,
        state="FULL",
        counted=counted,
        reason="monthly count",
        actor=head_office,
        depot=north,
    )
    assert (movement.kind, movement.quantity, movement.note) == (
        "ADJUSTMENT",
        quantity,
        "monthly count",
    )
    assert getattr(movement, f"{side}_level_id") is not None
    assert stock_on_hand(product=cyl, depot=north) == counted
    entry = AuditLog.objects.get(action="stock_adjust")
    assert (entry.data["before"], entry.data["counted"]) == (20, counted)


def test_a_matching_count_is_recorded_as_zero(north, cyl, head_office):
    stock_receive(depot=north, product=cyl, quantity=20, actor=head_office)
    movement = stock_adjust(
        product=cyl, state="FULL", counted=20, reason="routine", actor=head_office, depot=north
    )
    assert movement.quantity == 0
    assert stock_on_hand(product=cyl, depot=north) == 20


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"counted": -1}, "counted", "zero or more; got -1"),
        ({"reason": "  "}, "reason", "Say why"),
        ({"state": "HALF"}, "state", "FULL or EMPTY; got 'HALF'"),
        ({"depot": None}, "depot", "either a depot or a vehicle"),
    ],
)
def test_count_input_errors(north, cyl, head_office, kwargs, field, message):
    args = {
        "product": cyl,
        "state": "FULL",
        "counted": 1,
        "reason": "count",
        "actor": head_office,
        "depot": north,
    }
    args.update(kwargs)
    with pytest.raises(ValidationError) as exc:
        stock_adjust(**args)
    assert message in exc.value.message_dict[field][0]
    assert StockMovement.objects.count() == 0


def test_vehicle_count_belongs_to_the_home_depot(north, cyl, manager, sales_rep):
    stock_adjust(
        product=cyl, state="EMPTY", counted=4, reason="found", actor=manager, sales_rep=sales_rep
    )
    level = StockLevel.objects.get()
    assert (level.depot, level.sales_rep, level.quantity) == (north, sales_rep, 4)


def test_sales_rep_cannot_count(sales_rep, cyl):
    with pytest.raises(PermissionDenied):
        stock_adjust(
            product=cyl, state="FULL", counted=1, reason="x", actor=sales_rep, sales_rep=sales_rep
        )


# --- ledger ----------------------------------------------------------------------------


def test_levels_equal_the_ledger_after_a_day_of_work(north, cyl, nine, head_office, sales_rep):
    stock_receive(depot=north, product=cyl, quantity=40, actor=head_office)
    stock_receive(depot=north, product=nine, quantity=10, actor=head_office)
    collect(sales_rep, north, cyl, 15, head_office)
    collect(sales_rep, north, nine, 4, head_office)
    stock_adjust(
        product=cyl, state="EMPTY", counted=6, reason="x", actor=head_office, sales_rep=sales_rep
    )
    collect(sales_rep, north, cyl, 6, head_office, kind="EMPTY_RETURN")
    stock_adjust(
        product=cyl, state="FULL", counted=24, reason="breakage", actor=head_office, depot=north
    )
    assert list(ledger_differences()) == []


def test_database_refuses_a_negative_level(north, cyl, head_office):
    from django.db import IntegrityError, connection, transaction

    stock_receive(depot=north, product=cyl, quantity=2, actor=head_office)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE stock_stocklevel SET quantity = -1")
    assert stock_on_hand(product=cyl, depot=north) == 2


def test_quantities_above_the_maximum_are_refused(north, cyl, head_office):
    with pytest.raises(ValidationError) as exc:
        stock_receive(depot=north, product=cyl, quantity=2**31, actor=head_office)
    assert "check the figure" in exc.value.message_dict["quantity"][0]


def test_inactive_product_can_still_come_back_and_be_counted(north, cyl, head_office, sales_rep):
    stock_adjust(
        product=cyl, state="EMPTY", counted=3, reason="x", actor=head_office, sales_rep=sales_rep
    )
    cyl.is_active = False
    cyl.save()
    collect(sales_rep, north, cyl, 2, head_office, kind="EMPTY_RETURN")
    stock_adjust(
        product=cyl,
        state="EMPTY",
        counted=0,
        reason="scrapped",
        actor=head_office,
        sales_rep=sales_rep,
    )
    with pytest.raises(ValidationError, match="no longer sold"):
        collect(sales_rep, north, cyl, 1, head_office)
    assert stock_on_hand(product=cyl, state="EMPTY", depot=north) == 2


def test_a_rep_whose_vehicle_holds_stock_cannot_change_depot(
    north, south, cyl, head_office, sales_rep
):
    from core.services import user_assignment_validate

    stock_receive(depot=north, product=cyl, quantity=5, actor=head_office)
    collect(sales_rep, north, cyl, 2, head_office)
    with pytest.raises(ValidationError) as exc:
        user_assignment_validate(role="SALES", depots=[south], vehicle_no="V", user=sales_rep)
    assert "vehicle still holds 2 cylinders" in exc.value.message_dict["depots"][0]
    with pytest.raises(ValidationError):
        user_assignment_validate(role="MANAGER", depots=[north], vehicle_no="", user=sales_rep)
    user_assignment_validate(role="SALES", depots=[north], vehicle_no="V", user=sales_rep)


def test_an_empty_vehicle_moves_with_its_rep(north, south, cyl, head_office, sales_rep):
    stock_receive(depot=north, product=cyl, quantity=5, actor=head_office)
    stock_receive(depot=south, product=cyl, quantity=5, actor=head_office)
    collect(sales_rep, north, cyl, 2, head_office)
    stock_adjust(
        product=cyl, state="FULL", counted=0, reason="moved", actor=head_office, sales_rep=sales_rep
    )
    sales_rep.depots.set([south])
    collect(sales_rep, south, cyl, 1, head_office)
    level = StockLevel.objects.get(sales_rep=sales_rep, product=cyl, state="FULL")
    assert (level.depot, level.quantity) == (south, 1)
    assert list(ledger_differences()) == []
