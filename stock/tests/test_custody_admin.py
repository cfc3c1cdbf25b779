"""The custody screens that move cylinders between places: empties to the filling plant,
transfers between depots, load sheets and write-offs. Each previews what the posting
does, writes nothing until confirmed, names the field at fault, and never answers 500."""

import pytest
from django.urls import reverse

from core.models import AuditLog
from stock.models import Distribution, StockMovement, Transfer
from stock.selectors import stock_on_hand
from stock.services import distribution_create, stock_adjust, stock_receive, stock_transfer

pytestmark = pytest.mark.django_db


def table(panel) -> list[list[str]]:
    """A page's panel as the clerk reads it: each cell's text, the product by its code."""
    return [[row[0].text.split(" · ")[0]] + [c.text for c in row[1:]] for row in panel.rows]


def preview_and_confirm(client, url, data, **kwargs):
    """What a clerk does: preview, then press the confirm button of that preview."""
    preview = client.post(url, {**data, "_preview": "1"})
    assert preview.context["stage"] == "confirm", preview.context["form"].errors
    token = preview.context["token"]
    return client.post(url, {**data, "_confirm": "1", "_token": token}, **kwargs)


@pytest.fixture
def stocked(north, south, cyl, nine, head_office):
    """NORTH: 30 full 12.7KG, 5 full 9KG, 12 empty 12.7KG. SOUTH: 4 full 12.7KG."""
    stock_receive(depot=north, product=cyl, quantity=30, actor=head_office)
    stock_receive(depot=north, product=nine, quantity=5, actor=head_office)
    stock_receive(depot=south, product=cyl, quantity=4, actor=head_office)
    stock_adjust(
        product=cyl, state="EMPTY", counted=12, reason="opening", actor=head_office, depot=north
    )


# --- Dispatch of empties to the filling plant ------------------------------------------

DISPATCH = "admin:stock_stocklevel_dispatch"


def test_dispatch_previews_then_posts_with_the_delivery_note(client, manager, north, cyl, stocked):
    client.force_login(manager)
    url = reverse(DISPATCH)
    data = {"depot": north.pk, "product": cyl.pk, "quantity": 10, "reference": "DN-4411"}
    preview = client.post(url, {**data, "_preview": "1"})
    assert preview.context["preview_lines"] == [
        "Send 10 empty 12.7KG cylinders from depot NORTH to the filling plant, "
        "delivery note DN-4411.",
        "Empty 12.7KG at NORTH: 12 -> 2.",
    ]
    assert not StockMovement.objects.filter(kind="PLANT_DISPATCH").exists()
    done = preview_and_confirm(client, url, data, follow=True)
    movement = StockMovement.objects.get(kind="PLANT_DISPATCH")
    assert (movement.reference, movement.quantity, movement.actor) == ("DN-4411", 10, manager)
    assert stock_on_hand(product=cyl, state="EMPTY", depot=north) == 2
    assert "Dispatched 10 empty 12.7KG from depot NORTH" in done.content.decode()
    # It lands on the ledger, filtered to dispatches.
    assert [m.pk for m in done.context["cl"].result_list] == [movement.pk]


def test_dispatch_of_more_empties_than_held_names_the_quantity(
    client, manager, north, cyl, stocked
):
    client.force_login(manager)
    response = client.post(
        reverse(DISPATCH),
        {"depot": north.pk, "product": cyl.pk, "quantity": 13, "reference": "DN-1", "_preview": 1},
    )
    assert response.context["stage"] == "entry"
    assert response.context["form"].errors["quantity"] == [
        "Only 12 empty 12.7KG cylinders at depot NORTH; 13 requested."
    ]
    assert not StockMovement.objects.filter(kind="PLANT_DISPATCH").exists()


def test_dispatch_needs_the_delivery_note(client, manager, north, cyl, stocked):
    client.force_login(manager)
    response = client.post(
        reverse(DISPATCH),
        {"depot": north.pk, "product": cyl.pk, "quantity": 1, "reference": " ", "_preview": 1},
    )
    assert "reference" in response.context["form"].errors
    assert not StockMovement.objects.filter(kind="PLANT_DISPATCH").exists()


def test_a_manager_cannot_dispatch_from_another_depot(client, manager, south, cyl, stocked):
    client.force_login(manager)
    response = client.post(
        reverse(DISPATCH),
        {"depot": south.pk, "product": cyl.pk, "quantity": 1, "reference": "DN", "_preview": 1},
    )
    assert "depot" in response.context["form"].errors  # not one of the choices offered
    assert not StockMovement.objects.filter(kind="PLANT_DISPATCH").exists()


# --- Transfers between depots ----------------------------------------------------------

TRANSFER = "admin:stock_transfer_add"


def test_transfer_of_several_products_previews_both_depots(
    client, manager, north, south, cyl, nine, stocked
):
    client.force_login(manager)
    url = reverse(TRANSFER)
    data = {
        "from_depot": north.pk,
        "to_depot": south.pk,
        "state": "FULL",
        "reference": "WB-77",
        f"qty_{cyl.pk}": "8",
        f"qty_{nine.pk}": "2",
    }
    preview = client.post(url, {**data, "_preview": "1"})
    assert preview.context["preview_lines"] == [
        "Transfer of full cylinders from depot NORTH to depot SOUTH, reference WB-77.",
        "2 9KG: NORTH 5 -> 3; SOUTH 0 -> 2.",
        "8 12.7KG: NORTH 30 -> 22; SOUTH 4 -> 12.",
        "10 cylinders leave NORTH and arrive at SOUTH.",
    ]
    assert not Transfer.objects.exists()
    done = preview_and_confirm(client, url, data, follow=True)
    transfer = Transfer.objects.get()
    assert done.redirect_chain[-1][0] == reverse("admin:stock_transfer_change", args=[transfer.pk])
    assert stock_on_hand(product=cyl, depot=south) == 12
    assert stock_on_hand(product=nine, depot=north) == 3
    page = done.content.decode()
    assert f"{transfer.number} posted: full cylinders from depot NORTH to depot SOUTH" in page
    lines, moved, _related = (table(p) for p in done.context["panels"])
    assert sorted(lines) == [["12.7KG", "8", "-"], ["9KG", "2", "-"]]  # product, full, empty
    assert sorted((m[2], m[4], m[5], m[6]) for m in moved) == [
        ("12.7KG", "8", "depot NORTH", "depot SOUTH"),
        ("9KG", "2", "depot NORTH", "depot SOUTH"),
    ]


def test_a_short_line_refuses_the_whole_transfer_under_its_row(
    client, manager, north, south, cyl, nine, stocked
):
    client.force_login(manager)
    response = client.post(
        reverse(TRANSFER),
        {
            "from_depot": north.pk,
            "to_depot": south.pk,
            "state": "FULL",
            f"qty_{cyl.pk}": "3",
            f"qty_{nine.pk}": "6",
            "_preview": "1",
        },
    )
    assert response.context["stage"] == "entry"
    assert response.context["form"].errors[f"qty_{nine.pk}"] == [
        "Only 5 full 9KG cylinders at depot NORTH; 6 requested."
    ]
    assert not Transfer.objects.exists()
    assert stock_on_hand(product=cyl, depot=north) == 30


def test_a_transfer_to_the_same_depot_is_refused_on_to_depot(client, manager, north, cyl, stocked):
    client.force_login(manager)
    response = client.post(
        reverse(TRANSFER),
        {
            "from_depot": north.pk,
            "to_depot": north.pk,
            "state": "FULL",
            f"qty_{cyl.pk}": "1",
            "_preview": "1",
        },
    )
    assert "already at depot NORTH" in response.context["form"].errors["to_depot"][0]
    assert not Transfer.objects.exists()


def test_a_transfer_without_cylinders_says_so(client, manager, north, south, stocked):
    client.force_login(manager)
    response = client.post(
        reverse(TRANSFER),
        {"from_depot": north.pk, "to_depot": south.pk, "state": "EMPTY", "_preview": "1"},
    )
    assert response.context["form"].non_field_errors() == [
        "Enter how many cylinders of at least one product."
    ]


def test_a_manager_sends_to_any_depot_but_only_from_their_own(
    client, manager, north, south, cyl, stocked
):
    client.force_login(manager)
    form = client.get(reverse(TRANSFER)).context["form"]
    assert list(form.fields["from_depot"].queryset) == [north]
    assert set(form.fields["to_depot"].queryset) == {north, south}
    response = client.post(
        reverse(TRANSFER),
        {
            "from_depot": south.pk,
            "to_depot": north.pk,
            "state": "FULL",
            f"qty_{cyl.pk}": "1",
            "_preview": "1",
        },
    )
    assert "from_depot" in response.context["form"].errors
    assert not Transfer.objects.exists()


def test_managers_of_either_depot_see_the_transfer(
    client, manager, user_factory, north, south, depot_factory, cyl, head_office, stocked
):
    transfer = stock_transfer(
        from_depot=south,
        to_depot=north,
        lines=[{"product": cyl, "quantity": 1}],
        actor=head_office,
    )
    west = depot_factory("WEST")
    outsider = user_factory("MANAGER", depots=[west])
    url = reverse("admin:stock_transfer_changelist")
    client.force_login(manager)  # NORTH: the receiving depot
    listed = client.get(url).context["cl"].result_list
    assert [t.number for t in listed] == [transfer.number]
    assert client.get(reverse("admin:stock_transfer_change", args=[transfer.pk])).status_code == 200
    client.force_login(outsider)
    assert list(client.get(url).context["cl"].result_list) == []
    page = client.get(reverse("admin:stock_transfer_change", args=[transfer.pk]))
    assert page.status_code == 302  # the admin's "does not exist" back to the list


def test_transfer_list_shows_lines_and_finds_the_number_and_waybill(
    client, head_office, north, south, cyl, nine, stocked
):
    transfer = stock_transfer(
        from_depot=north,
        to_depot=south,
        lines=[{"product": cyl, "quantity": 2}, {"product": nine, "quantity": 1}],
        reference="WB-9",
        actor=head_office,
    )
    client.force_login(head_office)
    url = reverse("admin:stock_transfer_changelist")
    response = client.get(url)
    assert "2 x 12.7KG, 1 x 9KG" in response.content.decode()
    for term in (transfer.number.lower(), "WB-9"):
        assert [t.pk for t in client.get(url, {"q": term}).context["cl"].result_list] == [
            transfer.pk
        ]
    assert list(client.get(url, {"q": "TRF\x00"}).context["cl"].result_list) == []


# --- Load sheets ------------------------------------------------------------------------

LOAD_SHEET = "admin:stock_distribution_load_sheet"


def test_morning_load_of_every_product_is_one_document(
    client, manager, sales_rep, cyl, nine, stocked
):
    client.force_login(manager)
    url = reverse(LOAD_SHEET)
    form = client.get(url).context["form"]
    assert [row["product"].code for row in form.line_rows()] == [p.code for p in form.cylinders]
    assert {cyl, nine} <= set(form.cylinders)
    data = {
        "kind": "COLLECTION",
        "sales_rep": sales_rep.pk,
        f"qty_{cyl.pk}": "20",
        f"qty_{nine.pk}": "5",
    }
    preview = client.post(url, {**data, "_preview": "1"})
    assert preview.context["preview_lines"] == [
        f"Morning load: full cylinders from depot NORTH onto vehicle {sales_rep.vehicle_no} "
        "(northrep).",
        "5 full 9KG: depot NORTH 5 -> 0; vehicle 0 -> 5.",
        "20 full 12.7KG: depot NORTH 30 -> 10; vehicle 0 -> 20.",
    ]
    done = preview_and_confirm(client, url, data, follow=True)
    distribution = Distribution.objects.get()
    assert distribution.quantity == 25
    lines, moved, _related = (table(p) for p in done.context["panels"])
    assert sorted(lines) == [["12.7KG", "20", "-"], ["9KG", "5", "-"]]  # product, full, empty
    assert len(moved) == 2
    assert "field-product" not in done.content.decode()  # several products: the lines say
    assert stock_on_hand(product=nine, sales_rep=sales_rep) == 5
    listed = client.get(reverse("admin:stock_distribution_changelist"))
    assert "20 x 12.7KG" in listed.content.decode()
    assert "5 x 9KG" in listed.content.decode()


def test_evening_empty_return_refuses_a_short_row(
    client, manager, head_office, sales_rep, cyl, nine, stocked
):
    stock_adjust(
        product=cyl, state="EMPTY", counted=4, reason="x", actor=head_office, sales_rep=sales_rep
    )
    client.force_login(manager)
    data = {
        "kind": "EMPTY_RETURN",
        "sales_rep": sales_rep.pk,
        f"qty_{cyl.pk}": "4",
        f"qty_{nine.pk}": "1",
        "_preview": "1",
    }
    response = client.post(reverse(LOAD_SHEET), data)
    errors = response.context["form"].errors
    assert list(errors) == [f"qty_{nine.pk}"]
    assert "9KG" in errors[f"qty_{nine.pk}"][0]
    assert Distribution.objects.count() == 0
    data[f"qty_{nine.pk}"] = ""
    preview_and_confirm(client, reverse(LOAD_SHEET), data)
    assert stock_on_hand(product=cyl, state="EMPTY", sales_rep=sales_rep) == 0
    assert Distribution.objects.get().kind == "EMPTY_RETURN"


def test_distribution_list_filters_by_a_product_of_its_lines(
    client, head_office, sales_rep, cyl, nine, stocked
):
    single = distribution_create(
        sales_rep=sales_rep, depot=sales_rep.home_depot, product=cyl, quantity=1,
        kind="COLLECTION", actor=head_office,
    )  # fmt: skip
    client.force_login(head_office)
    url = reverse("admin:stock_distribution_changelist")
    assert [d.pk for d in client.get(url, {"product": cyl.pk}).context["cl"].result_list] == [
        single.pk
    ]
    assert list(client.get(url, {"product": nine.pk}).context["cl"].result_list) == []
    assert client.get(url, {"product": "abc"}).status_code in (200, 302)


# --- Write-offs -------------------------------------------------------------------------

WRITE_OFF = "admin:stock_stocklevel_write_off"


def test_write_off_shows_as_a_loss_on_the_ledger(client, manager, north, cyl, stocked):
    client.force_login(manager)
    url = reverse(WRITE_OFF)
    data = {
        "depot": north.pk,
        "product": cyl.pk,
        "state": "FULL",
        "quantity": 2,
        "cause": "DAMAGED",
        "reason": "dropped from the lorry",
    }
    preview = client.post(url, {**data, "_preview": "1"})
    assert preview.context["preview_lines"] == [
        "Write off 2 full 12.7KG cylinders on depot NORTH: damaged.",
        "Full 12.7KG on depot NORTH: 30 -> 28.",
        "Reason: dropped from the lorry",
    ]
    assert not StockMovement.objects.filter(kind="WRITE_OFF").exists()
    done = preview_and_confirm(client, url, data, follow=True)
    loss = StockMovement.objects.get(kind="WRITE_OFF")
    assert [m.pk for m in done.context["cl"].result_list] == [loss.pk]
    assert "dropped from the lorry" in done.content.decode()
    assert stock_on_hand(product=cyl, depot=north) == 28
    assert AuditLog.objects.filter(action="stock_write_off", actor=manager).count() == 1


def test_write_off_needs_a_place_and_a_reason(client, manager, cyl, stocked):
    client.force_login(manager)
    response = client.post(
        reverse(WRITE_OFF),
        {"product": cyl.pk, "state": "FULL", "quantity": 1, "cause": "LOST", "_preview": "1"},
    )
    form = response.context["form"]
    assert "reason" in form.errors
    assert form.non_field_errors() == ["Choose either a depot or a vehicle."]
    assert not StockMovement.objects.filter(kind="WRITE_OFF").exists()


def test_write_off_from_a_vehicle(client, manager, head_office, sales_rep, cyl, stocked):
    distribution_create(
        sales_rep=sales_rep, depot=sales_rep.home_depot, product=cyl, quantity=3,
        kind="COLLECTION", actor=head_office,
    )  # fmt: skip
    client.force_login(manager)
    data = {
        "sales_rep": sales_rep.pk,
        "product": cyl.pk,
        "state": "FULL",
        "quantity": 1,
        "cause": "LOST",
        "reason": "stolen at a stop",
    }
    preview_and_confirm(client, reverse(WRITE_OFF), data)
    assert stock_on_hand(product=cyl, sales_rep=sales_rep) == 2
    assert StockMovement.objects.get(kind="WRITE_OFF").sales_rep == sales_rep


# --- Nothing a user sends gives a 500 ---------------------------------------------------

TAMPERED = ["abc", "9" * 30, "-1", "1.5", "\x00", ""]


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        (DISPATCH, ["depot", "product", "quantity", "reference"]),
        (WRITE_OFF, ["depot", "sales_rep", "product", "state", "quantity", "cause"]),
        (TRANSFER, ["from_depot", "to_depot", "state", "qty_1"]),
        (LOAD_SHEET, ["kind", "sales_rep", "qty_1"]),
    ],
)
@pytest.mark.parametrize("value", TAMPERED)
def test_tampered_values_are_form_errors(client, head_office, stocked, name, fields, value):
    client.force_login(head_office)
    for field in fields:
        for button in ("_preview", "_confirm", "_edit"):
            response = client.post(reverse(name), {field: value, button: "1", "_token": value})
            assert response.status_code == 200, (field, button)
        get = client.get(reverse(name), {field: value})
        # A NUL in the address is the admin site's 400 page (core.admin_site).
        assert get.status_code == (400 if "\x00" in value else 200), field
    assert not StockMovement.objects.filter(
        kind__in=["PLANT_DISPATCH", "WRITE_OFF", "TRANSFER"]
    ).exists()


@pytest.mark.parametrize("name", [DISPATCH, WRITE_OFF, TRANSFER, LOAD_SHEET])
def test_sales_representatives_and_strangers_are_kept_out(client, sales_rep, name):
    assert client.get(reverse(name)).status_code == 302  # to the login page
    client.force_login(sales_rep)
    assert client.get(reverse(name)).status_code == 302


@pytest.mark.parametrize("typed", ["1,000", "1e2", "2.0", "\u0661\u0660"])
def test_a_row_says_how_to_write_a_whole_number(client, manager, north, south, cyl, typed):
    client.force_login(manager)
    response = client.post(
        reverse(TRANSFER),
        {
            "from_depot": north.pk,
            "to_depot": south.pk,
            "state": "FULL",
            f"qty_{cyl.pk}": typed,
            "_preview": "1",
        },
    )
    assert response.context["form"].errors[f"qty_{cyl.pk}"] == [
        "Enter a whole number: digits only, such as 12, without a decimal point, thousands "
        "separators or an exponent."
    ]
    assert not Transfer.objects.exists()


def test_the_ledger_links_a_reference_to_its_document(
    client, head_office, north, south, cyl, stocked
):
    transfer = stock_transfer(
        from_depot=north, to_depot=south, lines=[{"product": cyl, "quantity": 1}], actor=head_office
    )
    client.force_login(head_office)
    page = client.get(reverse("admin:stock_stockmovement_changelist")).content.decode()
    url = reverse("admin:stock_transfer_change", args=[transfer.pk])
    assert f'<a href="{url}">{transfer.number}</a>' in page
