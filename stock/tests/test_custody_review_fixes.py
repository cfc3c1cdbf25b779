"""Fixes from the review of the custody screens: what each screen shows and offers, and
what its services refuse, as a clerk meets them."""

import pytest
from django.urls import reverse

from stock.models import StockMovement, Transfer
from stock.selectors import stock_on_hand
from stock.services import distribution_create, stock_adjust, stock_receive, stock_transfer

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


# --- 2. Inactive products still in stock can leave it -----------------------------------

DISPATCH = "admin:stock_stocklevel_dispatch"
TRANSFER = "admin:stock_transfer_add"
LOAD_SHEET = "admin:stock_distribution_load_sheet"
WRITE_OFF = "admin:stock_stocklevel_write_off"


def preview_and_confirm(client, url, data):
    """What a clerk does: preview, then press the confirm button of that preview."""
    preview = client.post(url, {**data, "_preview": "1"})
    assert preview.context["stage"] == "confirm", preview.context["form"].errors
    return client.post(url, {**data, "_confirm": "1", "_token": preview.context["token"]})


@pytest.fixture
def retired(cyl, stocked):
    """12.7KG no longer sold, with full and empty cylinders still at NORTH."""
    cyl.is_active = False
    cyl.save(update_fields=["is_active"])
    return cyl


def test_empties_of_an_inactive_product_can_be_dispatched(client, manager, north, retired):
    client.force_login(manager)
    data = {"depot": north.pk, "product": retired.pk, "quantity": 2, "reference": "DN-7"}
    assert preview_and_confirm(client, reverse(DISPATCH), data).status_code == 302
    assert stock_on_hand(product=retired, state="EMPTY", depot=north) == 10


def test_an_inactive_product_can_be_written_off(client, manager, north, retired):
    client.force_login(manager)
    data = {
        "depot": north.pk,
        "product": retired.pk,
        "state": "EMPTY",
        "quantity": 1,
        "cause": "CONDEMNED",
        "reason": "failed inspection",
    }
    assert preview_and_confirm(client, reverse(WRITE_OFF), data).status_code == 302
    assert StockMovement.objects.filter(kind="WRITE_OFF", product=retired).count() == 1


def test_an_inactive_product_moves_between_depots_as_empties_only(
    client, manager, north, south, retired
):
    client.force_login(manager)
    url = reverse(TRANSFER)
    form = client.get(url).context["form"]
    assert "no longer sold" in form.fields[f"qty_{retired.pk}"].label
    empties = {"from_depot": north.pk, "to_depot": south.pk, "state": "EMPTY"}
    data = {**empties, f"qty_{retired.pk}": "3"}
    assert preview_and_confirm(client, url, data).status_code == 302
    assert stock_on_hand(product=retired, state="EMPTY", depot=south) == 3
    full = client.post(url, {**data, "state": "FULL", "_preview": "1"})
    assert full.context["stage"] == "entry"
    assert "no longer sold" in str(full.context["form"].errors[f"qty_{retired.pk}"])
    assert Transfer.objects.count() == 1


def test_an_inactive_product_with_no_stock_is_not_offered(client, manager, north, nine, stocked):
    stock_adjust(product=nine, state="FULL", counted=0, reason="gone", actor=manager, depot=north)
    nine.is_active = False
    nine.save(update_fields=["is_active"])
    client.force_login(manager)
    assert f"qty_{nine.pk}" not in client.get(reverse(TRANSFER)).context["form"].fields
    products = client.get(reverse(WRITE_OFF)).context["form"].fields["product"].queryset
    assert nine not in products


# --- 3. A departed representative's vehicle can be emptied and written off --------------


@pytest.fixture
def departed(user_factory, north, cyl, head_office, stocked):
    """A NORTH representative who left with 4 full and 2 empty 12.7KG on the vehicle."""
    rep = user_factory("SALES", depots=[north], username="leaver", vehicle_no="KBX 1")
    distribution_create(
        sales_rep=rep, depot=north, product=cyl, quantity=4, kind="COLLECTION", actor=head_office
    )
    stock_adjust(
        product=cyl, state="EMPTY", counted=2, reason="found", actor=head_office, sales_rep=rep
    )
    rep.is_active = False
    rep.save(update_fields=["is_active"])
    return rep


def test_a_departed_representatives_empties_come_back_on_a_load_sheet(
    client, manager, north, cyl, departed
):
    client.force_login(manager)
    data = {"sales_rep": departed.pk, "kind": "EMPTY_RETURN", f"qty_{cyl.pk}": "2"}
    assert preview_and_confirm(client, reverse(LOAD_SHEET), data).status_code == 302
    assert stock_on_hand(product=cyl, state="EMPTY", sales_rep=departed) == 0
    assert stock_on_hand(product=cyl, state="EMPTY", depot=north) == 14


def test_a_departed_representatives_cylinders_can_be_written_off(client, manager, cyl, departed):
    client.force_login(manager)
    data = {
        "sales_rep": departed.pk,
        "product": cyl.pk,
        "state": "FULL",
        "quantity": 4,
        "cause": "LOST",
        "reason": "not handed back when they left",
    }
    assert preview_and_confirm(client, reverse(WRITE_OFF), data).status_code == 302
    assert stock_on_hand(product=cyl, state="FULL", sales_rep=departed) == 0


def test_a_departed_representative_gets_no_morning_load(client, manager, cyl, departed):
    client.force_login(manager)
    data = {"sales_rep": departed.pk, "kind": "COLLECTION", f"qty_{cyl.pk}": "1"}
    response = client.post(reverse(LOAD_SHEET), {**data, "_preview": "1"})
    assert response.context["stage"] == "entry"
    assert "sales_rep" in response.context["form"].errors
    assert stock_on_hand(product=cyl, state="FULL", sales_rep=departed) == 4


# --- 4. A count sheet is not posted over figures that moved since its preview -----------

SHEET = "admin:stock_stockcount_add"


def _page_data(form, **changes):
    """What a page of the count sheet sends back: every field as the page holds it."""
    data = {name: form[name].value() for name in form.fields}
    return {**{k: "" if v is None else v for k, v in data.items()}, **changes}


def test_a_count_confirmed_after_a_figure_moved_goes_back_to_the_preview(
    client, manager, head_office, north, sales_rep, cyl, stocked
):
    from stock.models import StockCount

    client.force_login(manager)
    url = reverse(SHEET)
    sheet = client.get(url, {"depot": north.pk}).context["form"]
    data = _page_data(sheet, reason="month end")
    preview = client.post(url, {**data, "_preview": "1"})
    assert preview.context["stage"] == "confirm"
    # Meanwhile the representative's morning load leaves the depot: 30 -> 26 full.
    distribution_create(
        sales_rep=sales_rep, depot=north, product=cyl, quantity=4, kind="COLLECTION",
        actor=head_office,
    )  # fmt: skip
    confirm = _page_data(preview.context["form"])
    again = client.post(url, {**confirm, "_confirm": "1", "_token": preview.context["token"]})
    assert again.status_code == 200
    assert again.context["stage"] == "confirm"
    lines = again.context["preview_lines"]
    assert lines[0].startswith("Nothing was posted: the system's figures changed since the preview")
    assert (
        "Check full 12.7KG: the system's figure changed from 30 to 26 since the preview." in lines
    )
    assert not StockCount.objects.exists()
    assert stock_on_hand(product=cyl, depot=north) == 26  # the collection stands
    # Confirmed again from the new preview (nothing moved since): posted as counted.
    confirm = _page_data(again.context["form"])
    posted = client.post(url, {**confirm, "_confirm": "1", "_token": again.context["token"]})
    assert posted.status_code == 302
    assert StockCount.objects.count() == 1


def test_a_count_confirmed_with_nothing_moved_is_posted_at_once(
    client, manager, head_office, north, cyl, stocked
):
    from stock.models import StockCount

    client.force_login(manager)
    url = reverse(SHEET)
    sheet = client.get(url, {"depot": north.pk}).context["form"]
    stock_receive(depot=north, product=cyl, quantity=3, actor=head_office)  # before the preview
    data = _page_data(sheet, reason="month end")
    preview = client.post(url, {**data, "_preview": "1"})
    assert any("since the sheet was opened" in line for line in preview.context["preview_lines"])
    confirm = _page_data(preview.context["form"])
    posted = client.post(url, {**confirm, "_confirm": "1", "_token": preview.context["token"]})
    assert posted.status_code == 302
    assert StockCount.objects.get().lines.get(product=cyl, state="FULL").system_quantity == 33


# --- 5. A write-off's reason is kept whole ----------------------------------------------


def test_a_write_off_reason_too_long_for_the_ledger_note_is_refused(manager, north, cyl, stocked):
    from django.core.exceptions import ValidationError

    from stock.services import WRITE_OFF_REASON_MAX_LENGTH, stock_write_off

    longest = "x" * WRITE_OFF_REASON_MAX_LENGTH
    kwargs = {"product": cyl, "state": "FULL", "quantity": 1, "cause": "CONDEMNED"}
    with pytest.raises(ValidationError) as refused:
        stock_write_off(**kwargs, reason=longest + "y", actor=manager, depot=north)
    error = refused.value.error_dict["reason"][0]
    assert error.code == "max_length"
    assert f"at most {WRITE_OFF_REASON_MAX_LENGTH} characters" in error.message
    assert not StockMovement.objects.filter(kind="WRITE_OFF").exists()
    movement = stock_write_off(**kwargs, reason=longest, actor=manager, depot=north)
    assert movement.note == f"Condemned (failed inspection): {longest}"  # whole, not cut


def test_the_write_off_form_refuses_a_reason_too_long_under_its_field(
    client, manager, north, cyl, stocked
):
    from stock.services import WRITE_OFF_REASON_MAX_LENGTH

    client.force_login(manager)
    data = {
        "depot": north.pk,
        "product": cyl.pk,
        "state": "FULL",
        "quantity": 1,
        "cause": "LOST",
        "reason": "x" * (WRITE_OFF_REASON_MAX_LENGTH + 1),
        "_preview": "1",
    }
    response = client.post(reverse(WRITE_OFF), data)
    assert response.context["stage"] == "entry"
    assert str(WRITE_OFF_REASON_MAX_LENGTH) in str(response.context["form"].errors["reason"])
    assert not StockMovement.objects.filter(kind="WRITE_OFF").exists()


# --- 6. A closed depot's refusal says how to proceed ------------------------------------


@pytest.fixture
def closed_north(north, cyl, stocked):
    north.is_active = False
    north.save(update_fields=["is_active"])
    return north


def _refusal(call) -> tuple[str, str]:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        call()
    ((field, errors),) = refused.value.error_dict.items()
    return field, errors[0].message


def test_closed_depot_refusals_say_reopen_it(head_office, closed_north, south, cyl):
    from stock.services import empties_dispatch, stock_count_post, stock_write_off

    moves = [{"product": cyl, "quantity": 1}]
    assert _refusal(
        lambda: stock_transfer(
            from_depot=closed_north, to_depot=south, lines=moves, actor=head_office
        )
    ) == ("from_depot", "Depot NORTH is closed (inactive): reopen it (Depots) to move its stock.")
    assert _refusal(
        lambda: empties_dispatch(
            depot=closed_north, product=cyl, quantity=1, reference="DN", actor=head_office
        )
    ) == ("depot", "Depot NORTH is closed (inactive): reopen it (Depots) to move its stock.")
    assert _refusal(
        lambda: stock_count_post(
            depot=closed_north,
            reason="year end",
            actor=head_office,
            lines=[{"product": cyl, "state": "FULL", "counted": 0}],
        )
    ) == ("depot", "Depot NORTH is closed (inactive): reopen it (Depots) to count its stock.")
    assert _refusal(
        lambda: stock_write_off(depot=closed_north, product=cyl, state="FULL", quantity=1,
                                cause="LOST", reason="gone", actor=head_office)
    ) == (
        "depot",
        "Depot NORTH is closed (inactive): reopen it (Depots) to write off its stock.",
    )  # fmt: skip
    assert StockMovement.objects.filter(depot=closed_north).count() == 3  # the fixture's only


# --- 7. Vehicle filter label; first-ever levels created in one order --------------------


def test_the_vehicle_filter_names_a_representative_without_a_vehicle(
    client, head_office, user_factory, north, stocked
):
    from core.models import User

    walker = user_factory("SALES", depots=[north], username="walker")
    # Left without a vehicle number (the forms require one; older rows may not have it).
    User.objects.filter(pk=walker.pk).update(vehicle_no="")
    client.force_login(head_office)
    response = client.get(reverse(MOVEMENTS))
    (vehicles,) = [f for f in response.context["cl"].filter_specs if f.title == "vehicle"]
    assert (walker.pk, "no vehicle (walker)") in vehicles.lookup_choices
    assert not any(label.startswith("None") for _, label in vehicles.lookup_choices)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_first_loads_with_lines_in_opposite_orders_never_deadlock(
    concurrently, caplog, north, cyl, nine, head_office, user_factory
):
    import logging

    from stock.services import distribution_post

    stock_receive(depot=north, product=cyl, quantity=100, actor=head_office)
    stock_receive(depot=north, product=nine, quantity=100, actor=head_office)
    caplog.set_level(logging.WARNING, logger="core.db")
    forward = [{"product": cyl, "quantity": 1}, {"product": nine, "quantity": 1}]
    outcomes = []
    for _ in range(8):  # each a new representative: their vehicle levels do not exist yet
        rep = user_factory("SALES", depots=[north])
        outcomes += concurrently(
            [
                lambda rep=rep, lines=lines: distribution_post(
                    sales_rep=rep,
                    depot=north,
                    kind="COLLECTION",
                    lines=lines,
                    actor=head_office,
                )
                for lines in (forward, forward[::-1])
            ]
        )
    assert not [o for o in outcomes if isinstance(o, Exception)]
    retries = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert not retries, retries  # no deadlock to retry
    assert stock_on_hand(product=cyl, depot=north) == 100 - 16


def test_missing_levels_are_created_in_one_fixed_order(north, cyl, nine, sales_rep):
    """Keys in any order: the rows are inserted by depot, representative, product and
    state, so two first-ever postings never wait for each other's rows in a cycle."""
    from django.db import transaction

    from stock.models import StockLevel
    from stock.services import LevelKey, levels_lock

    keys = [
        LevelKey(depot=north, product=product, state=state, sales_rep=sales_rep)
        for product in sorted((cyl, nine), key=lambda p: -p.pk)
        for state in ("FULL", "EMPTY")
    ]
    with transaction.atomic():
        levels_lock(keys)
    created = StockLevel.objects.filter(sales_rep=sales_rep).order_by("pk")
    assert [(lv.product_id, lv.state) for lv in created] == sorted(
        (p.pk, s) for p in (cyl, nine) for s in ("EMPTY", "FULL")
    )
