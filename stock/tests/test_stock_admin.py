"""The stock screens: read-only lists scoped to the manager, and preview-then-confirm forms."""

import pytest
from django.urls import reverse

from stock.models import Distribution, StockMovement
from stock.selectors import stock_on_hand
from stock.services import distribution_create, stock_adjust, stock_receive

pytestmark = pytest.mark.django_db


def preview_and_confirm(client, url, data, **kwargs):
    """What a clerk does: preview, then press the confirm button of that preview."""
    preview = client.post(url, {**data, "_preview": "1"})
    assert preview.context["stage"] == "confirm", preview.context["form"].errors
    token = preview.context["token"]
    return client.post(url, {**data, "_confirm": "1", "_token": token}, **kwargs)


@pytest.fixture
def stocked(north, south, cyl, nine, head_office, sales_rep):
    stock_receive(depot=north, product=cyl, quantity=30, actor=head_office)
    stock_receive(depot=north, product=nine, quantity=5, actor=head_office)
    stock_receive(depot=south, product=cyl, quantity=99, actor=head_office)
    distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=10,
        kind="COLLECTION",
        actor=head_office,
    )


def test_manager_sees_own_depot_levels_with_totals(client, manager, stocked):
    client.force_login(manager)
    response = client.get(reverse("admin:stock_stocklevel_changelist"))
    labels = {str(level) for level in response.context["cl"].result_list}
    assert all("SOUTH" not in label for label in labels)
    assert len(labels) == 3  # NORTH 12.7KG, NORTH 9KG, vehicle 12.7KG
    assert response.context["stock_totals"] == {"full": 35, "empty": 0}
    assert b"Receive stock" in response.content


def test_totals_follow_the_filters(client, head_office, stocked, cyl):
    client.force_login(head_office)
    url = reverse("admin:stock_stocklevel_changelist")
    response = client.get(url, {"product__id__exact": cyl.pk, "location": "vehicle"})
    assert response.context["stock_totals"] == {"full": 10, "empty": 0}


def test_ledger_is_scoped_to_the_manager(client, manager, stocked):
    client.force_login(manager)
    response = client.get(reverse("admin:stock_stockmovement_changelist"))
    movements = list(response.context["cl"].result_list)
    assert len(movements) == 3
    assert {m.depot.code for m in movements} == {"NORTH"}


def test_receipt_preview_writes_nothing_then_confirm_posts(client, manager, north, cyl, stocked):
    client.force_login(manager)
    url = reverse("admin:stock_stocklevel_receive")
    data = {"depot": north.pk, "product": cyl.pk, "quantity": 12, "note": "lorry 7"}
    before = StockMovement.objects.count()
    preview = client.post(url, {**data, "_preview": "1"})
    assert preview.context["stage"] == "confirm"
    assert "Full 12.7KG at NORTH: 20 -> 32." in preview.context["preview_lines"]
    assert StockMovement.objects.count() == before
    done = client.post(url, {**data, "_confirm": "1", "_token": preview.context["token"]})
    assert done.status_code == 302
    assert stock_on_hand(product=cyl, depot=north) == 32
    receipt = StockMovement.objects.get(kind="RECEIPT", note="lorry 7")
    assert receipt.actor == manager


def test_manager_cannot_choose_another_depot(client, manager, south, cyl):
    client.force_login(manager)
    response = client.post(
        reverse("admin:stock_stocklevel_receive"),
        {"depot": south.pk, "product": cyl.pk, "quantity": 1, "_confirm": "1"},
    )
    assert response.status_code == 200
    assert "depot" in response.context["form"].errors
    assert not StockMovement.objects.filter(depot=south, kind="RECEIPT", actor=manager).exists()


def test_distribution_preview_shows_the_services_refusal(client, manager, sales_rep, cyl, stocked):
    client.force_login(manager)
    response = client.post(
        reverse("admin:stock_distribution_add"),
        {
            "kind": "COLLECTION",
            "sales_rep": sales_rep.pk,
            "product": cyl.pk,
            "quantity": 25,
            "_preview": "1",
        },
    )
    assert response.context["stage"] == "entry"
    assert response.context["form"].errors["quantity"] == [  # on the field at fault
        "Only 20 full 12.7KG cylinders at depot NORTH; 25 requested."
    ]
    assert Distribution.objects.count() == 1


def test_distribution_confirm_posts_a_numbered_document(client, manager, sales_rep, cyl, stocked):
    client.force_login(manager)
    data = {"kind": "COLLECTION", "sales_rep": sales_rep.pk, "product": cyl.pk, "quantity": 5}
    preview = client.post(reverse("admin:stock_distribution_add"), {**data, "_preview": "1"})
    assert preview.context["preview_lines"][1] == "Depot NORTH: 20 -> 15; vehicle: 10 -> 15."
    response = preview_and_confirm(
        client, reverse("admin:stock_distribution_add"), data, follow=True
    )
    latest = Distribution.objects.order_by("-pk").first()
    assert latest.quantity == 5
    assert latest.created_by == manager
    assert f"{latest.distribution_no} posted" in response.content.decode()
    assert stock_on_hand(product=cyl, sales_rep=sales_rep) == 15


def test_empty_return_preview_is_what_the_posting_does(
    client, manager, head_office, sales_rep, cyl, stocked
):
    stock_adjust(
        product=cyl,
        state="EMPTY",
        counted=4,
        reason="count",
        actor=head_office,
        sales_rep=sales_rep,
    )
    client.force_login(manager)
    url = reverse("admin:stock_distribution_add")
    data = {"kind": "EMPTY_RETURN", "sales_rep": sales_rep.pk, "product": cyl.pk, "quantity": 3}
    preview = client.post(url, {**data, "_preview": "1"})
    assert preview.context["preview_lines"] == [
        f"Empty return: 3 empty 12.7KG cylinders from vehicle {sales_rep.vehicle_no} "
        "(northrep) to depot NORTH.",
        "Vehicle: 4 -> 1; depot NORTH: 0 -> 3.",
    ]
    preview_and_confirm(client, url, data)
    assert stock_on_hand(product=cyl, state="EMPTY", sales_rep=sales_rep) == 1
    assert stock_on_hand(product=cyl, state="EMPTY", depot=sales_rep.home_depot) == 3
    assert stock_on_hand(product=cyl, sales_rep=sales_rep) == 10  # full ones stay


def test_back_button_keeps_the_entries(client, manager, north, cyl):
    client.force_login(manager)
    response = client.post(
        reverse("admin:stock_stocklevel_receive"),
        {"depot": north.pk, "product": cyl.pk, "quantity": 3, "_edit": "1"},
    )
    assert response.context["stage"] == "entry"
    assert response.context["form"]["quantity"].value() == "3"


def test_count_needs_a_depot_or_a_vehicle(client, manager, cyl):
    client.force_login(manager)
    response = client.post(
        reverse("admin:stock_stocklevel_count"),
        {"product": cyl.pk, "state": "FULL", "counted": 3, "reason": "x", "_preview": "1"},
    )
    assert response.context["form"].non_field_errors() == [
        "Choose either a depot or a vehicle to count."
    ]


def test_count_preview_then_confirm(client, manager, north, cyl, stocked):
    client.force_login(manager)
    data = {
        "depot": north.pk,
        "product": cyl.pk,
        "state": "FULL",
        "counted": 18,
        "reason": "two damaged",
    }
    preview = client.post(reverse("admin:stock_stocklevel_count"), {**data, "_preview": "1"})
    assert (
        "The system holds 20; you counted 18: adjustment of -2." in preview.context["preview_lines"]
    )
    preview_and_confirm(client, reverse("admin:stock_stocklevel_count"), data)
    assert stock_on_hand(product=cyl, depot=north) == 18


def test_dashboard_shows_cylinders_by_depot(client, manager, stocked):
    """The dashboard's cylinders panel (the apps' older "Cylinders by depot" table that
    repeated it is gone)."""
    client.force_login(manager)
    response = client.get(reverse("admin:index"), {"refresh": "1"})
    assert all(p["title"] != "Cylinders by depot" for p in response.context["dashboard_panels"])
    rows = response.context["dashboard"]["panels"]["cylinders"]["data"]["rows"]
    keys = ("depot", "full", "empty", "vehicle_full", "vehicle_empty")
    assert [tuple(r[k] for k in keys) for r in rows] == [("NORTH", 25, 0, 10, 0)]


def test_a_second_click_on_confirm_posts_nothing(client, manager, north, cyl):
    client.force_login(manager)
    url = reverse("admin:stock_stocklevel_receive")
    data = {"depot": north.pk, "product": cyl.pk, "quantity": 5}
    token = client.post(url, {**data, "_preview": "1"}).context["token"]
    first = client.post(url, {**data, "_confirm": "1", "_token": token})
    second = client.post(url, {**data, "_confirm": "1", "_token": token})
    assert first.status_code == 302
    assert "already posted" in second.context["form"].non_field_errors()[0]
    assert stock_on_hand(product=cyl, depot=north) == 5


def test_confirm_without_a_preview_is_refused(client, manager, north, cyl):
    client.force_login(manager)
    response = client.post(
        reverse("admin:stock_stocklevel_receive"),
        {"depot": north.pk, "product": cyl.pk, "quantity": 5, "_confirm": "1"},
    )
    assert "preview the form again" in response.context["form"].non_field_errors()[0]
    assert stock_on_hand(product=cyl, depot=north) == 0


def test_huge_quantities_are_form_errors_not_crashes(client, manager, north, cyl):
    client.force_login(manager)
    response = client.post(
        reverse("admin:stock_stocklevel_receive"),
        {"depot": north.pk, "product": cyl.pk, "quantity": 2**31, "_preview": "1"},
    )
    assert response.status_code == 200
    assert "quantity" in response.context["form"].errors


@pytest.mark.parametrize("value", ["abc", "9" * 30, "-1"])
def test_a_tampered_vehicle_filter_is_not_a_500(client, manager, stocked, value):
    client.force_login(manager)
    for name in ("stocklevel", "stockmovement"):
        response = client.get(reverse(f"admin:stock_{name}_changelist"), {"vehicle": value})
        assert response.status_code in (200, 302), name


def test_rep_without_a_home_depot_is_a_form_error(client, head_office, sales_rep, cyl):
    sales_rep.depots.clear()
    client.force_login(head_office)
    response = client.post(
        reverse("admin:stock_distribution_add"),
        {
            "kind": "COLLECTION",
            "sales_rep": sales_rep.pk,
            "product": cyl.pk,
            "quantity": 1,
            "_preview": "1",
        },
    )
    assert response.status_code == 200
    assert "has no home depot" in str(response.context["form"].errors)


def test_ledger_search_by_reference_then_notes(client, head_office, north, cyl, sales_rep):
    stock_receive(depot=north, product=cyl, quantity=5, actor=head_office, note="late truck")
    collection = distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=2,
        kind="COLLECTION",
        actor=head_office,
    )
    client.force_login(head_office)
    url = reverse("admin:stock_stockmovement_changelist")

    def found(term):
        listed = client.get(url, {"q": term}).context["cl"].result_list
        return [(m.kind, m.reference) for m in listed]

    # An exact reference wins (also typed in lower case); other text searches the notes.
    number = collection.distribution_no
    assert found(number.lower()) == [("COLLECTION", number)]
    assert found("late tr") == [("RECEIPT", "")]
    assert found("nothing like it") == []


@pytest.mark.parametrize("name", ["stock_stockmovement", "sales_transaction"])
def test_a_nul_in_a_search_is_not_a_500(client, head_office, name):
    client.force_login(head_office)
    response = client.get(reverse(f"admin:{name}_changelist"), {"q": "TX\x00-1"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
