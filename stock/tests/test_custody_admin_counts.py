"""The count sheet: choose a depot or a vehicle, count every product and state on one
screen prefilled with the system's figures, preview the differences, post one CNT-
document; its list and its page show the lines (system, counted, difference)."""

import pytest
from django.urls import reverse

from stock.models import StockCount, StockMovement
from stock.selectors import stock_on_hand
from stock.services import distribution_create, stock_adjust, stock_count_post, stock_receive

pytestmark = pytest.mark.django_db

SHEET = "admin:stock_stockcount_add"


@pytest.fixture
def stocked(north, south, cyl, nine, head_office):
    """NORTH: 30 full 12.7KG, 5 full 9KG, 12 empty 12.7KG. SOUTH: 4 full 12.7KG."""
    stock_receive(depot=north, product=cyl, quantity=30, actor=head_office)
    stock_receive(depot=north, product=nine, quantity=5, actor=head_office)
    stock_receive(depot=south, product=cyl, quantity=4, actor=head_office)
    stock_adjust(
        product=cyl, state="EMPTY", counted=12, reason="opening", actor=head_office, depot=north
    )


def sheet_data(form, **changes):
    """What the sheet posts when the clerk leaves every prefilled figure as it is, except
    `changes` (field name -> value)."""
    data = {name: form[name].value() for name in form.fields}
    data = {name: "" if value is None else value for name, value in data.items()}
    return {**data, **changes}


def test_the_first_step_chooses_a_depot_or_a_vehicle(client, manager, north, stocked):
    client.force_login(manager)
    url = reverse(SHEET)
    choose = client.get(url)
    assert choose.templates[0].name == "admin/stock/stockcount/choose_place.html"
    assert set(choose.context["form"].fields) == {"depot", "sales_rep"}
    # A way back without counting: Cancel returns to the count sheets.
    assert f'href="{reverse("admin:stock_stockcount_changelist")}" class="cancel-link"' in (
        choose.content.decode()
    )
    neither = client.get(url, {"depot": "", "sales_rep": ""})
    assert neither.context["form"].non_field_errors() == [
        "Choose either a depot or a vehicle to count."
    ]
    sheet = client.get(url, {"depot": north.pk})
    assert sheet.context["form"].place_label == "depot NORTH"


def test_the_sheet_lists_every_product_and_state_with_the_systems_figures(
    client, manager, north, cyl, nine, stocked
):
    client.force_login(manager)
    form = client.get(reverse(SHEET), {"depot": north.pk}).context["form"]
    rows = {(r["product"].code, r["state"]): r["system"] for r in form.line_rows()}
    assert rows[("12.7KG", "Full")] == 30
    assert rows[("12.7KG", "Empty")] == 12
    assert rows[("9KG", "Full")] == 5
    assert rows[("9KG", "Empty")] == 0
    assert form[f"counted_{cyl.pk}_full"].value() == 30  # prefilled
    products = {code for code, _ in rows}
    assert set(rows) == {(code, state) for code in products for state in ("Full", "Empty")}


def test_preview_lists_only_the_differences_then_posts_one_document(
    client, manager, north, cyl, nine, stocked
):
    client.force_login(manager)
    url = reverse(SHEET)
    form = client.get(url, {"depot": north.pk}).context["form"]
    data = sheet_data(
        form,
        **{f"counted_{cyl.pk}_full": "28", f"counted_{nine.pk}_empty": "1"},
        reason="month-end count",
    )
    preview = client.post(url, {**data, "_preview": "1"})
    assert preview.context["stage"] == "confirm", preview.context["form"].errors
    lines = preview.context["preview_lines"]
    assert lines[0].startswith("Count sheet of depot NORTH: ")
    assert lines[1:] == [
        "Empty 9KG: the system holds 0; you counted 1: adjustment of +1.",
        "Full 12.7KG: the system holds 30; you counted 28: adjustment of -2.",
        "Reason: month-end count",
    ]
    assert not StockCount.objects.exists()
    done = client.post(url, {**data, "_confirm": "1", "_token": preview.context["token"]})
    count = StockCount.objects.get()
    assert done["Location"] == reverse("admin:stock_stockcount_change", args=[count.pk])
    assert stock_on_hand(product=cyl, depot=north) == 28
    assert stock_on_hand(product=nine, state="EMPTY", depot=north) == 1
    adjustments = StockMovement.objects.filter(kind="ADJUSTMENT", reference=count.number)
    assert adjustments.count() == 2
    assert count.created_by == manager
    assert count.reason == "month-end count"


def test_a_sheet_without_differences_says_so(client, manager, north, stocked):
    client.force_login(manager)
    url = reverse(SHEET)
    form = client.get(url, {"depot": north.pk}).context["form"]
    preview = client.post(url, {**sheet_data(form, reason="routine"), "_preview": "1"})
    assert (
        "No differences: every count matches the system's figure."
        in (preview.context["preview_lines"])
    )


def test_a_figure_that_moved_since_the_sheet_was_opened_is_pointed_out(
    client, manager, head_office, north, cyl, stocked
):
    client.force_login(manager)
    url = reverse(SHEET)
    form = client.get(url, {"depot": north.pk}).context["form"]
    stock_receive(depot=north, product=cyl, quantity=3, actor=head_office)  # meanwhile
    preview = client.post(url, {**sheet_data(form, reason="routine"), "_preview": "1"})
    lines = preview.context["preview_lines"]
    assert "Full 12.7KG: the system holds 33; you counted 30: adjustment of -3." in lines
    assert (
        "Check full 12.7KG: the system's figure changed from 30 to 33 since the sheet was "
        "opened." in lines
    )


def test_a_vehicle_count_sheet(client, manager, head_office, sales_rep, cyl, stocked):
    distribution_create(
        sales_rep=sales_rep, depot=sales_rep.home_depot, product=cyl, quantity=6,
        kind="COLLECTION", actor=head_office,
    )  # fmt: skip
    client.force_login(manager)
    url = reverse(SHEET)
    form = client.get(url, {"sales_rep": sales_rep.pk}).context["form"]
    assert form.place_label == f"vehicle {sales_rep.vehicle_no} (northrep)"
    data = sheet_data(form, **{f"counted_{cyl.pk}_full": "5"}, reason="one missing")
    preview = client.post(url, {**data, "_preview": "1"})
    client.post(url, {**data, "_confirm": "1", "_token": preview.context["token"]})
    count = StockCount.objects.get()
    assert count.sales_rep == sales_rep
    assert stock_on_hand(product=cyl, sales_rep=sales_rep) == 5


def test_the_reason_and_a_count_are_required(client, manager, north, cyl, stocked):
    client.force_login(manager)
    url = reverse(SHEET)
    form = client.get(url, {"depot": north.pk}).context["form"]
    blank = {name: "" for name in form.fields if name.startswith("counted_")}
    response = client.post(url, {**sheet_data(form), **blank, "reason": "", "_preview": "1"})
    errors = response.context["form"].errors
    assert "reason" in errors
    assert errors["__all__"] == ["Enter the count of at least one product."]
    bad = client.post(
        url,
        {**sheet_data(form, reason="x"), f"counted_{cyl.pk}_full": "-1", "_preview": "1"},
    )
    assert f"counted_{cyl.pk}_full" in bad.context["form"].errors
    assert not StockCount.objects.exists()


def test_a_blank_row_is_not_counted(client, manager, north, cyl, nine, stocked):
    client.force_login(manager)
    url = reverse(SHEET)
    form = client.get(url, {"depot": north.pk}).context["form"]
    blank = {name: "" for name in form.fields if name.startswith("counted_")}
    data = {**sheet_data(form, reason="spot check"), **blank, f"counted_{nine.pk}_full": "4"}
    preview = client.post(url, {**data, "_preview": "1"})
    client.post(url, {**data, "_confirm": "1", "_token": preview.context["token"]})
    count = StockCount.objects.get()
    assert [(line.product.code, line.state) for line in count.lines.all()] == [("9KG", "FULL")]


def test_a_manager_cannot_count_another_depot(client, manager, south, cyl, stocked):
    client.force_login(manager)
    url = reverse(SHEET)
    choose = client.get(url, {"depot": south.pk})
    assert "depot" in choose.context["form"].errors  # not offered
    response = client.post(
        url,
        {"depot": south.pk, f"counted_{cyl.pk}_full": "0", "reason": "x", "_preview": "1"},
    )
    assert response.status_code == 200
    assert response.context["stage"] == "entry"
    assert not StockCount.objects.exists()
    assert stock_on_hand(product=cyl, depot=south) == 4


@pytest.mark.parametrize("value", ["abc", "9" * 30, "-1", "1.5", ""])
def test_tampered_sheets_are_form_errors(client, head_office, north, cyl, stocked, value):
    client.force_login(head_office)
    url = reverse(SHEET)
    assert client.get(url, {"depot": value}).status_code == 200
    assert client.get(url, {"sales_rep": value, "depot": north.pk}).status_code == 200
    for field in ("depot", "sales_rep", f"counted_{cyl.pk}_full", f"shown_{cyl.pk}_full"):
        for button in ("_preview", "_confirm", "_edit"):
            data = {"depot": north.pk, "reason": "x", field: value, button: "1", "_token": "t"}
            assert client.post(url, data).status_code == 200, (field, button)
    assert not StockCount.objects.exists()


def test_count_list_and_page_show_the_lines(
    client, manager, head_office, north, cyl, nine, stocked
):
    count = stock_count_post(
        depot=north,
        lines=[
            {"product": cyl, "state": "FULL", "counted": 27},
            {"product": nine, "state": "FULL", "counted": 5},
        ],
        reason="quarterly",
        actor=head_office,
    )
    client.force_login(manager)
    listed = client.get(reverse("admin:stock_stockcount_changelist"))
    assert [c.pk for c in listed.context["cl"].result_list] == [count.pk]
    assert "12.7KG full -3" in listed.content.decode()
    found = client.get(reverse("admin:stock_stockcount_changelist"), {"q": count.number.lower()})
    assert [c.pk for c in found.context["cl"].result_list] == [count.pk]
    page = client.get(reverse("admin:stock_stockcount_change", args=[count.pk]))
    lines, movements, _related = page.context["panels"]
    assert [[c.text for c in row[1:]] for row in lines.rows] == [
        ["Full", "30", "27", "-3"],
        ["Full", "5", "5", "0"],
    ]
    assert [row[0].text.split(" · ")[0] for row in lines.rows] == ["12.7KG", "9KG"]
    assert [(m[1].text, m[2].text, m[4].text, m[5].text) for m in movements.rows] == [
        ("Adjustment (stock count)", "12.7KG", "3", "depot NORTH")
    ]
    assert b'name="reason"' not in page.content  # read-only


def test_another_depots_count_is_not_shown_to_a_manager(
    client, manager, head_office, south, cyl, stocked
):
    count = stock_count_post(
        depot=south,
        lines=[{"product": cyl, "state": "FULL", "counted": 4}],
        reason="x",
        actor=head_office,
    )
    client.force_login(manager)
    assert (
        list(client.get(reverse("admin:stock_stockcount_changelist")).context["cl"].result_list)
        == []
    )
    page = client.get(reverse("admin:stock_stockcount_change", args=[count.pk]))
    assert page.status_code == 302
    assert client.get(reverse("admin:stock_stockcount_history", args=[count.pk])).status_code == 404


@pytest.mark.parametrize("name", ["stock_stockcount", "stock_transfer", "stock_distribution"])
@pytest.mark.parametrize(
    "query",
    [
        {"depot__id__exact": "abc"},
        {"from_depot__id__exact": "9" * 30},
        {"to_depot__id__exact": "-1"},
        {"vehicle": "abc"},
        {"product": "9" * 30},
        {"state__exact": "PURPLE"},
        {"created_at__gte": "2026-02-30"},
        {"q": "CNT\x00"},
        {"o": "99"},
    ],
)
def test_tampered_list_addresses_are_not_a_500(client, manager, stocked, name, query):
    client.force_login(manager)
    response = client.get(reverse(f"admin:{name}_changelist"), query)
    assert response.status_code in (200, 302, 400)


def test_a_vehicle_count_is_listed_by_its_vehicle(client, manager, head_office, sales_rep, cyl):
    stock_count_post(
        sales_rep=sales_rep,
        lines=[{"product": cyl, "state": "EMPTY", "counted": 2}],
        reason="found two",
        actor=head_office,
    )
    client.force_login(manager)
    listed = client.get(reverse("admin:stock_stockcount_changelist"), {"vehicle": sales_rep.pk})
    assert f"vehicle {sales_rep.vehicle_no} (northrep)" in listed.content.decode()
    assert "12.7KG empty +2" in listed.content.decode()


def test_a_refusal_of_a_line_stands_under_its_row(cyl):
    from django.core.exceptions import ValidationError

    from stock.admin_custody import rows_keyed
    from stock.forms_custody import CountSheetForm

    def refuses(**kwargs):
        raise ValidationError(
            {
                "lines[0].counted": ValidationError("Too many.", code="max_value"),
                "lines[5].counted": ValidationError("No such line.", code="x"),
                "reason": ValidationError("Say why.", code="required"),
            }
        )

    line = {"product": cyl, "state": "FULL", "counted": 1}
    with pytest.raises(ValidationError) as refused:
        rows_keyed(refuses, CountSheetForm.line_field)(lines=[line])
    assert {key: [e.code for e in errors] for key, errors in refused.value.error_dict.items()} == {
        f"counted_{cyl.pk}_full": ["max_value"],
        "lines[5].counted": ["x"],  # not a line of this form: shown above the form
        "reason": ["required"],
    }

    def refuses_plainly(**kwargs):
        raise ValidationError("Not now.", code="closed")

    with pytest.raises(ValidationError) as plain:
        rows_keyed(refuses_plainly, CountSheetForm.line_field)(lines=[line])
    assert plain.value.messages == ["Not now."]


def test_without_the_count_permission_the_sheet_is_forbidden(client, manager, north):
    from django.contrib.auth.models import Permission

    group = manager.groups.get()
    group.permissions.remove(Permission.objects.get(codename="count_stock"))
    client.force_login(manager)
    assert client.get(reverse(SHEET), {"depot": north.pk}).status_code == 403
    assert client.get(reverse(SHEET)).status_code == 403
