"""empties_dispatch, stock_transfer, stock_write_off, distribution_post, stock_count_post
and count_sheet: what each posts, and that each refusal names its field and writes
nothing."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.models import AuditLog
from stock.models import (
    Distribution,
    MovementKind,
    StockCount,
    StockMovement,
    Transfer,
)
from stock.selectors import count_sheet, depot_movements, ledger_differences, stock_on_hand
from stock.services import (
    distribution_create,
    distribution_post,
    empties_dispatch,
    stock_adjust,
    stock_count_post,
    stock_receive,
    stock_transfer,
    stock_write_off,
)
from stock.tests.custody import written

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year


def refused(call, field, code):
    """call() is refused on `field` with `code`, and writes nothing."""
    before = written()
    with pytest.raises(ValidationError) as exc:
        call()
    assert field in exc.value.message_dict, exc.value.message_dict
    assert [e.code for e in exc.value.error_dict[field]] == [code]
    assert written() == before
    return exc.value.message_dict[field][0]


def empties(depot, product, quantity, actor):
    stock_adjust(
        product=product, state="EMPTY", counted=quantity, reason="opening", actor=actor, depot=depot
    )


# --- empties_dispatch ------------------------------------------------------------------


def test_dispatch_sends_empties_to_the_plant_with_its_delivery_note(north, cyl, head_office):
    empties(north, cyl, 30, head_office)
    movement = empties_dispatch(
        depot=north, product=cyl, quantity=12, actor=head_office, reference="DN-4471"
    )
    assert stock_on_hand(product=cyl, state="EMPTY", depot=north) == 18
    assert (movement.kind, movement.state, movement.quantity) == ("PLANT_DISPATCH", "EMPTY", 12)
    assert movement.reference == "DN-4471"
    assert movement.to_level is None
    assert movement.from_level.depot == north
    entry = AuditLog.objects.get(action="empties_dispatch")
    assert entry.data == {
        "depot": "NORTH",
        "product": "12.7KG",
        "quantity": 12,
        "reference": "DN-4471",
        "balance": 18,
    }
    assert list(ledger_differences()) == []


def test_dispatch_needs_the_delivery_note(north, cyl, head_office):
    empties(north, cyl, 5, head_office)
    message = refused(
        lambda: empties_dispatch(
            depot=north, product=cyl, quantity=1, actor=head_office, reference="  "
        ),
        "reference",
        "required",
    )
    assert "delivery-note number" in message


def test_full_cylinders_cannot_be_dispatched_only_empties(north, cyl, head_office):
    """There is no state to choose: a depot with only full cylinders has nothing to send."""
    stock_receive(depot=north, product=cyl, quantity=40, actor=head_office)
    empties(north, cyl, 3, head_office)
    message = refused(
        lambda: empties_dispatch(
            depot=north, product=cyl, quantity=5, actor=head_office, reference="DN-1"
        ),
        "quantity",
        "insufficient_stock",
    )
    assert message == "Only 3 empty 12.7KG cylinders at depot NORTH; 5 requested."
    assert stock_on_hand(product=cyl, depot=north) == 40


def test_a_metered_product_cannot_be_dispatched(north, bulk, head_office):
    message = refused(
        lambda: empties_dispatch(
            depot=north, product=bulk, quantity=1, actor=head_office, reference="DN-1"
        ),
        "product",
        "product_not_cylinder",
    )
    assert "BULK is sold by meter reading" in message


@pytest.mark.parametrize(
    ("reference", "code"), [("x" * 41, "max_length"), ("DN\n1", "invalid"), (42, "invalid")]
)
def test_dispatch_reference_must_be_plain_text(north, cyl, head_office, reference, code):
    empties(north, cyl, 5, head_office)
    refused(
        lambda: empties_dispatch(
            depot=north, product=cyl, quantity=1, actor=head_office, reference=reference
        ),
        "reference",
        code,
    )


def test_dispatch_is_for_the_depots_staff(north, south, cyl, head_office, manager, sales_rep):
    empties(north, cyl, 5, head_office)
    empties(south, cyl, 5, head_office)
    empties_dispatch(depot=north, product=cyl, quantity=1, actor=manager, reference="DN-1")
    for actor, depot in ((manager, south), (sales_rep, north)):
        with pytest.raises(PermissionDenied):
            empties_dispatch(depot=depot, product=cyl, quantity=1, actor=actor, reference="DN-2")
    assert StockMovement.objects.filter(kind="PLANT_DISPATCH").count() == 1


def test_dispatch_from_a_closed_depot_is_refused(north, cyl, head_office):
    empties(north, cyl, 5, head_office)
    north.is_active = False
    north.save()
    refused(
        lambda: empties_dispatch(
            depot=north, product=cyl, quantity=1, actor=head_office, reference="DN-1"
        ),
        "depot",
        "depot_inactive",
    )


# --- stock_transfer --------------------------------------------------------------------


@pytest.fixture
def stocked(north, south, cyl, nine, head_office):
    """NORTH: 30 full 12.7KG, 10 full 9KG. SOUTH: 5 full 12.7KG."""
    stock_receive(depot=north, product=cyl, quantity=30, actor=head_office)
    stock_receive(depot=north, product=nine, quantity=10, actor=head_office)
    stock_receive(depot=south, product=cyl, quantity=5, actor=head_office)


def test_a_transfer_moves_every_line_on_one_document(north, south, cyl, nine, head_office, stocked):
    transfer = stock_transfer(
        from_depot=north,
        to_depot=south,
        lines=[{"product": cyl, "quantity": 12}, {"product": nine, "quantity": 10}],
        actor=head_office,
        reference="WB-77",
    )
    assert transfer.number == f"TRF-{YEAR}-000001"
    assert [(line.product, line.quantity) for line in transfer.lines.all()] == [
        (cyl, 12),
        (nine, 10),
    ]
    assert stock_on_hand(product=cyl, depot=north) == 18
    assert stock_on_hand(product=cyl, depot=south) == 17
    assert stock_on_hand(product=nine, depot=north) == 0
    assert stock_on_hand(product=nine, depot=south) == 10
    moves = StockMovement.objects.filter(kind="TRANSFER").order_by("pk")
    assert [(m.product, m.quantity, m.reference) for m in moves] == [
        (cyl, 12, transfer.number),
        (nine, 10, transfer.number),
    ]
    assert all(m.depot == north and m.to_level.depot == south for m in moves)
    assert all((m.doc_type, m.doc_id) == ("stock.transfer", transfer.pk) for m in moves)
    # Both depots list the transfer among their movements.
    assert set(depot_movements(depot=north).filter(kind="TRANSFER")) == set(moves)
    assert set(depot_movements(depot=south).filter(kind="TRANSFER")) == set(moves)
    entry = AuditLog.objects.get(action="stock_transfer")
    assert entry.data["lines"] == [
        {"product": "12.7KG", "quantity": 12},
        {"product": "9KG", "quantity": 10},
    ]
    assert list(ledger_differences()) == []


def test_empties_can_be_transferred(north, south, cyl, head_office):
    empties(north, cyl, 8, head_office)
    stock_transfer(
        from_depot=north,
        to_depot=south,
        lines=[{"product": cyl, "quantity": 8}],
        state="EMPTY",
        actor=head_office,
    )
    assert stock_on_hand(product=cyl, state="EMPTY", depot=south) == 8
    assert Transfer.objects.get().state == "EMPTY"


def test_a_short_line_refuses_the_whole_transfer(north, south, cyl, nine, head_office, stocked):
    message = refused(
        lambda: stock_transfer(
            from_depot=north,
            to_depot=south,
            lines=[{"product": cyl, "quantity": 12}, {"product": nine, "quantity": 11}],
            actor=head_office,
        ),
        "lines[1].quantity",
        "insufficient_stock",
    )
    assert message == "Only 10 full 9KG cylinders at depot NORTH; 11 requested."
    # The refused transfer took no number: the next one is the first.
    transfer = stock_transfer(
        from_depot=north, to_depot=south, lines=[{"product": cyl, "quantity": 1}], actor=head_office
    )
    assert transfer.number.endswith("-000001")


def test_a_transfer_to_the_same_depot_is_refused(north, cyl, head_office, stocked):
    message = refused(
        lambda: stock_transfer(
            from_depot=north,
            to_depot=north,
            lines=[{"product": cyl, "quantity": 1}],
            actor=head_office,
        ),
        "to_depot",
        "same_depot",
    )
    assert "already at depot NORTH" in message


@pytest.mark.parametrize(
    ("lines", "field", "code"),
    [
        ([], "lines", "required"),
        ([{"product": "12.7KG", "quantity": 1}], "lines[0].product", "product_required"),
        ([{"product": "cyl", "quantity": 0}], "lines[0].quantity", "quantity_too_small"),
        ([{"product": "cyl", "quantity": 1.0}], "lines[0].quantity", "not_whole_number"),
        ([{"product": "bulk", "quantity": 1}], "lines[0].product", "product_not_cylinder"),
        (
            [{"product": "cyl", "quantity": 1}, {"product": "cyl", "quantity": 2}],
            "lines[1].product",
            "duplicate_product",
        ),
    ],
)
def test_transfer_lines_are_checked(
    north, south, cyl, bulk, head_office, stocked, lines, field, code
):
    named = {"cyl": cyl, "bulk": bulk}
    lines = [{**line, "product": named.get(line["product"], line["product"])} for line in lines]
    refused(
        lambda: stock_transfer(from_depot=north, to_depot=south, lines=lines, actor=head_office),
        field,
        code,
    )


def test_a_product_twice_names_the_first_line(north, south, cyl, head_office, stocked):
    message = refused(
        lambda: stock_transfer(
            from_depot=north,
            to_depot=south,
            lines=[{"product": cyl, "quantity": 1}, {"product": cyl, "quantity": 2}],
            actor=head_office,
        ),
        "lines[1].product",
        "duplicate_product",
    )
    assert message == "12.7KG is already on line 1; put all of it on one line."


def test_transfers_to_or_from_a_closed_depot_are_refused(north, south, cyl, head_office, stocked):
    south.is_active = False
    south.save()
    line = [{"product": cyl, "quantity": 1}]
    refused(
        lambda: stock_transfer(from_depot=north, to_depot=south, lines=line, actor=head_office),
        "to_depot",
        "depot_inactive",
    )
    refused(
        lambda: stock_transfer(from_depot=south, to_depot=north, lines=line, actor=head_office),
        "from_depot",
        "depot_inactive",
    )


def test_a_bad_state_is_refused(north, south, cyl, head_office, stocked):
    refused(
        lambda: stock_transfer(
            from_depot=north,
            to_depot=south,
            lines=[{"product": cyl, "quantity": 1}],
            state="HALF",
            actor=head_office,
        ),
        "state",
        "invalid_state",
    )


def test_a_manager_transfers_only_from_their_depot(
    north, south, cyl, head_office, manager, sales_rep, stocked
):
    line = [{"product": cyl, "quantity": 1}]
    stock_transfer(from_depot=north, to_depot=south, lines=line, actor=manager)
    with pytest.raises(PermissionDenied):
        stock_transfer(from_depot=south, to_depot=north, lines=line, actor=manager)
    with pytest.raises(PermissionDenied):
        stock_transfer(from_depot=north, to_depot=south, lines=line, actor=sales_rep)
    assert Transfer.objects.count() == 1


def test_a_transfer_key_posts_once(north, south, cyl, head_office, stocked):
    line = [{"product": cyl, "quantity": 2}]
    first = stock_transfer(
        from_depot=north, to_depot=south, lines=line, actor=head_office, idempotency_key="k1"
    )
    again = stock_transfer(
        from_depot=north, to_depot=south, lines=line, actor=head_office, idempotency_key="k1"
    )
    assert again.pk == first.pk
    assert again.idempotent_replay
    assert stock_on_hand(product=cyl, depot=south) == 7
    refused(
        lambda: stock_transfer(
            from_depot=north,
            to_depot=south,
            lines=[{"product": cyl, "quantity": 3}],
            actor=head_office,
            idempotency_key="k1",
        ),
        "idempotency_key",
        "idempotency_key_reused",
    )


# --- stock_write_off -------------------------------------------------------------------


def test_a_write_off_takes_cylinders_off_a_depot_with_cause_and_reason(
    north, cyl, head_office, stocked
):
    movement = stock_write_off(
        product=cyl,
        state="FULL",
        quantity=2,
        cause="DAMAGED",
        reason="dropped from the truck",
        actor=head_office,
        depot=north,
    )
    assert (movement.kind, movement.quantity, movement.to_level) == ("WRITE_OFF", 2, None)
    assert movement.note == "Damaged: dropped from the truck"
    assert stock_on_hand(product=cyl, depot=north) == 28
    entry = AuditLog.objects.get(action="stock_write_off")
    assert (entry.data["cause"], entry.data["reason"], entry.data["balance"]) == (
        "DAMAGED",
        "dropped from the truck",
        28,
    )


def test_a_write_off_from_a_vehicle(north, cyl, manager, head_office, sales_rep, stocked):
    distribution_create(
        sales_rep=sales_rep, depot=north, product=cyl, quantity=4, kind="COLLECTION", actor=manager
    )
    movement = stock_write_off(
        product=cyl,
        state="FULL",
        quantity=1,
        cause="LOST",
        reason="stolen at a stop",
        actor=manager,
        sales_rep=sales_rep,
    )
    assert movement.sales_rep == sales_rep
    assert movement.depot == north
    assert stock_on_hand(product=cyl, sales_rep=sales_rep) == 3


def test_a_write_off_needs_a_reason(north, cyl, head_office, stocked):
    message = refused(
        lambda: stock_write_off(
            product=cyl,
            state="FULL",
            quantity=1,
            cause="DAMAGED",
            reason=" ",
            actor=head_office,
            depot=north,
        ),
        "reason",
        "required",
    )
    assert "Say what happened" in message


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"cause": "BROKEN"}, "cause", "invalid_cause"),
        ({"quantity": 31}, "quantity", "insufficient_stock"),
        ({"quantity": -1}, "quantity", "quantity_too_small"),
        ({"state": "GAS"}, "state", "invalid_state"),
        ({"reason": "x" * 256}, "reason", "max_length"),
        ({"sales_rep": "rep"}, "depot", "depot_or_vehicle"),
    ],
)
def test_write_off_input_is_checked(
    north, cyl, head_office, sales_rep, stocked, change, field, code
):
    args = {
        "product": cyl,
        "state": "FULL",
        "quantity": 1,
        "cause": "CONDEMNED",
        "reason": "failed the test",
        "actor": head_office,
        "depot": north,
    }
    args.update({k: sales_rep if v == "rep" else v for k, v in change.items()})
    refused(lambda: stock_write_off(**args), field, code)


def test_sales_reps_may_not_write_off(north, cyl, head_office, sales_rep, stocked):
    distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=2,
        kind="COLLECTION",
        actor=head_office,
    )
    before = written()
    with pytest.raises(PermissionDenied, match="depot manager or head office"):
        stock_write_off(
            product=cyl,
            state="FULL",
            quantity=1,
            cause="LOST",
            reason="gone",
            actor=sales_rep,
            sales_rep=sales_rep,
        )
    assert written() == before


# --- distribution_post -----------------------------------------------------------------


def test_a_load_sheet_carries_every_product_on_one_document(
    north, cyl, nine, head_office, sales_rep, stocked
):
    sheet = distribution_post(
        sales_rep=sales_rep,
        depot=north,
        kind="COLLECTION",
        lines=[{"product": cyl, "quantity": 8}, {"product": nine, "quantity": 3}],
        actor=head_office,
    )
    assert sheet.distribution_no == f"DST-{YEAR}-000001"
    assert (sheet.product, sheet.quantity) == (None, 11)
    assert [(line.product, line.quantity) for line in sheet.lines.all()] == [(cyl, 8), (nine, 3)]
    assert stock_on_hand(product=cyl, sales_rep=sales_rep) == 8
    assert stock_on_hand(product=nine, sales_rep=sales_rep) == 3
    moves = StockMovement.objects.filter(kind="COLLECTION").order_by("pk")
    assert [(m.product, m.quantity, m.reference) for m in moves] == [
        (cyl, 8, sheet.distribution_no),
        (nine, 3, sheet.distribution_no),
    ]
    entry = AuditLog.objects.get(action="distribution_post")
    assert entry.data["lines"] == [
        {"product": "12.7KG", "quantity": 8},
        {"product": "9KG", "quantity": 3},
    ]


def test_an_evening_return_of_empties_on_one_document(north, cyl, nine, head_office, sales_rep):
    for product in (cyl, nine):
        stock_adjust(
            product=product,
            state="EMPTY",
            counted=5,
            reason="opening",
            actor=head_office,
            sales_rep=sales_rep,
        )
    sheet = distribution_post(
        sales_rep=sales_rep,
        depot=north,
        kind="EMPTY_RETURN",
        lines=[{"product": cyl, "quantity": 5}, {"product": nine, "quantity": 4}],
        actor=head_office,
    )
    assert sheet.quantity == 9
    assert stock_on_hand(product=nine, state="EMPTY", depot=north) == 4
    assert stock_on_hand(product=nine, state="EMPTY", sales_rep=sales_rep) == 1


def test_a_short_line_refuses_the_whole_load_sheet(
    north, cyl, nine, head_office, sales_rep, stocked
):
    message = refused(
        lambda: distribution_post(
            sales_rep=sales_rep,
            depot=north,
            kind="COLLECTION",
            lines=[{"product": cyl, "quantity": 8}, {"product": nine, "quantity": 11}],
            actor=head_office,
        ),
        "lines[1].quantity",
        "insufficient_stock",
    )
    assert message == "Only 10 full 9KG cylinders at depot NORTH; 11 requested."


def test_a_load_sheet_with_a_product_twice_is_refused(north, cyl, head_office, sales_rep, stocked):
    refused(
        lambda: distribution_post(
            sales_rep=sales_rep,
            depot=north,
            kind="COLLECTION",
            lines=[{"product": cyl, "quantity": 1}, {"product": cyl, "quantity": 1}],
            actor=head_office,
        ),
        "lines[1].product",
        "duplicate_product",
    )


def test_distribution_create_is_the_one_line_case(north, cyl, head_office, sales_rep, stocked):
    dist = distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=4,
        kind="COLLECTION",
        actor=head_office,
    )
    assert (dist.product, dist.quantity) == (cyl, 4)
    assert [(line.product, line.quantity) for line in dist.lines.all()] == [(cyl, 4)]
    assert AuditLog.objects.get(action="distribution_create").data == {
        "number": dist.distribution_no,
        "kind": "COLLECTION",
        "sales_rep": sales_rep.username,
        "depot": "NORTH",
        "occurred_at": dist.occurred_at.isoformat(),
        "product": "12.7KG",
        "quantity": 4,
    }


def test_a_key_posted_by_distribution_create_replays_with_one_line(
    north, cyl, nine, head_office, sales_rep, stocked
):
    first = distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=4,
        kind="COLLECTION",
        actor=head_office,
        idempotency_key="load-1",
    )
    again = distribution_post(
        sales_rep=sales_rep,
        depot=north,
        kind="COLLECTION",
        lines=[{"product": cyl, "quantity": 4}],
        actor=head_office,
        idempotency_key="load-1",
    )
    assert again.pk == first.pk
    refused(
        lambda: distribution_post(
            sales_rep=sales_rep,
            depot=north,
            kind="COLLECTION",
            lines=[{"product": cyl, "quantity": 4}, {"product": nine, "quantity": 1}],
            actor=head_office,
            idempotency_key="load-1",
        ),
        "idempotency_key",
        "idempotency_key_reused",
    )
    assert Distribution.objects.count() == 1


# --- stock_count_post and count_sheet --------------------------------------------------


def test_a_count_sheet_adjusts_each_line_that_differs(
    north, cyl, nine, manager, head_office, stocked
):
    count = stock_count_post(
        depot=north,
        lines=[
            {"product": cyl, "state": "FULL", "counted": 28},
            {"product": nine, "state": "FULL", "counted": 10},
            {"product": cyl, "state": "EMPTY", "counted": 4},
        ],
        reason="month-end count",
        actor=manager,
    )
    assert count.number == f"CNT-{YEAR}-000001"
    assert [(ln.product, ln.state, ln.system_quantity, ln.counted) for ln in count.lines.all()] == [
        (cyl, "FULL", 30, 28),
        (nine, "FULL", 10, 10),
        (cyl, "EMPTY", 0, 4),
    ]
    moves = StockMovement.objects.filter(kind=MovementKind.ADJUSTMENT).order_by("pk")
    assert [(m.product, m.state, m.quantity, m.from_level_id is not None) for m in moves] == [
        (cyl, "FULL", 2, True),
        (cyl, "EMPTY", 4, False),
    ]
    assert {(m.reference, m.note, m.doc_id) for m in moves} == {
        (count.number, "month-end count", count.pk)
    }
    assert stock_on_hand(product=cyl, depot=north) == 28
    assert stock_on_hand(product=cyl, state="EMPTY", depot=north) == 4
    assert AuditLog.objects.get(action="stock_count_post").data["lines"][0] == {
        "product": "12.7KG",
        "state": "FULL",
        "system": 30,
        "counted": 28,
    }
    assert list(ledger_differences()) == []


def test_a_vehicle_count_sheet(north, cyl, head_office, sales_rep, stocked):
    distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=6,
        kind="COLLECTION",
        actor=head_office,
    )
    count = stock_count_post(
        sales_rep=sales_rep,
        lines=[{"product": cyl, "state": "FULL", "counted": 5}],
        reason="spot check",
        actor=head_office,
    )
    assert (count.depot, count.sales_rep) == (north, sales_rep)
    assert stock_on_hand(product=cyl, sales_rep=sales_rep) == 5


def test_a_count_sheet_with_a_product_twice_is_refused(north, cyl, head_office, stocked):
    message = refused(
        lambda: stock_count_post(
            depot=north,
            lines=[
                {"product": cyl, "state": "FULL", "counted": 1},
                {"product": cyl, "state": "EMPTY", "counted": 1},
                {"product": cyl, "state": "FULL", "counted": 2},
            ],
            reason="count",
            actor=head_office,
        ),
        "lines[2].product",
        "duplicate_product",
    )
    assert message == "12.7KG (full) is already counted on line 1; count it once."


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"reason": ""}, "reason", "required"),
        ({"lines": []}, "lines", "required"),
        (
            {"lines": [{"product": "cyl", "state": "FULL", "counted": -1}]},
            "lines[0].counted",
            "quantity_too_small",
        ),
        (
            {"lines": [{"product": "cyl", "state": "full", "counted": 1}]},
            "lines[0].state",
            "invalid_state",
        ),
        (
            {"lines": [{"product": "bulk", "state": "FULL", "counted": 1}]},
            "lines[0].product",
            "product_not_cylinder",
        ),
        ({"lines": [{"state": "FULL", "counted": 1}]}, "lines[0].product", "product_required"),
        ({"depot": None}, "depot", "depot_or_vehicle"),
    ],
)
def test_count_sheet_input_is_checked(north, cyl, bulk, head_office, stocked, change, field, code):
    args = {
        "depot": north,
        "lines": [{"product": cyl, "state": "FULL", "counted": 1}],
        "reason": "count",
        "actor": head_office,
    }
    named = {"cyl": cyl, "bulk": bulk}
    for key, value in change.items():
        if key == "lines":
            value = [
                {**ln, **({"product": named[ln["product"]]} if "product" in ln else {})}
                for ln in value
            ]
        args[key] = value
    refused(lambda: stock_count_post(**args), field, code)
    assert StockCount.objects.count() == 0


def test_sales_reps_may_not_post_count_sheets(north, cyl, sales_rep):
    with pytest.raises(PermissionDenied):
        stock_count_post(
            sales_rep=sales_rep,
            lines=[{"product": cyl, "state": "FULL", "counted": 1}],
            reason="count",
            actor=sales_rep,
        )
    assert StockCount.objects.count() == 0


def test_count_sheet_prefills_every_active_cylinder_and_state(
    north, cyl, nine, products, head_office, stocked
):
    sheet = count_sheet(depot=north)
    cylinders = [p for p in products.values() if p.kind == "CYLINDER" and p.is_active]
    assert len(sheet) == 2 * len(cylinders)
    assert all(row["product"].kind == "CYLINDER" for row in sheet)
    figures = {(row["product"].code, row["state"]): row["system_quantity"] for row in sheet}
    assert figures[("12.7KG", "FULL")] == 30
    assert figures[("9KG", "FULL")] == 10
    assert figures[("12.7KG", "EMPTY")] == 0
    assert [row["state"] for row in sheet[:2]] == ["FULL", "EMPTY"]


def test_count_sheet_keeps_an_inactive_product_while_it_is_held(
    north, cyl, head_office, sales_rep, stocked
):
    cyl.is_active = False
    cyl.save()
    assert ("12.7KG", "FULL", 30) in [
        (r["product"].code, r["state"], r["system_quantity"]) for r in count_sheet(depot=north)
    ]
    assert "12.7KG" not in {r["product"].code for r in count_sheet(sales_rep=sales_rep)}


def test_count_sheet_names_one_place(north, sales_rep):
    with pytest.raises(ValidationError):
        count_sheet()
    with pytest.raises(ValidationError):
        count_sheet(depot=north, sales_rep=sales_rep)


def test_a_transfer_names_both_depots(south, cyl, head_office):
    refused(
        lambda: stock_transfer(
            from_depot=None,
            to_depot=south,
            lines=[{"product": cyl, "quantity": 1}],
            actor=head_office,
        ),
        "from_depot",
        "required",
    )


def test_a_document_of_more_than_a_hundred_lines_is_refused(north, south, cyl, head_office):
    lines = [{"product": cyl, "quantity": 1}] * 101
    message = refused(
        lambda: stock_transfer(from_depot=north, to_depot=south, lines=lines, actor=head_office),
        "lines",
        "too_many_lines",
    )
    assert message == "101 lines is more than 100; check the sheet."


def test_a_count_reason_must_be_text(north, cyl, head_office):
    refused(
        lambda: stock_count_post(
            depot=north,
            lines=[{"product": cyl, "state": "FULL", "counted": 1}],
            reason=["routine"],
            actor=head_office,
        ),
        "reason",
        "invalid",
    )


def test_distribution_create_names_a_missing_product(north, head_office, sales_rep):
    refused(
        lambda: distribution_create(
            sales_rep=sales_rep,
            depot=north,
            product=None,
            quantity=1,
            kind="COLLECTION",
            actor=head_office,
        ),
        "product",
        "product_required",
    )
