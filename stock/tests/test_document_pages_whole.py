"""The page of a posted stock document shows the whole document in words: a load sheet's
and an empty return's lines (product, full, empty), a transfer's, a count sheet's
(system, counted, variance), a cylinder return's with the deposit refunded; who posted it
and when; the documents around it. Nothing on it looks editable, no internal code or
"None" shows, quantities are grouped, and a page costs the same queries for one line as
for many."""

from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from stock.models import Distribution, StockCount, Transfer
from stock.services import distribution_post, stock_count_post, stock_receive, stock_transfer

pytestmark = pytest.mark.django_db

CYLINDERS = ("12.7KG", "9KG", "14KG", "50KG-POL", "50KG-L")


@pytest.fixture
def stocked(north, head_office, products):
    for code in CYLINDERS:
        stock_receive(depot=north, product=products[code], quantity=3000, actor=head_office)
    return products


def _load(sales_rep, north, head_office, products, codes, quantity=1200):
    return distribution_post(
        sales_rep=sales_rep,
        depot=north,
        kind="COLLECTION",
        lines=[{"product": products[code], "quantity": quantity} for code in codes],
        actor=head_office,
    )


def _page(client, name, pk):
    response = client.get(reverse(f"admin:{name}_change", args=[pk]))
    assert response.status_code == 200
    return response, response.content.decode()


def _assert_read_only_words(html):
    """Nothing to edit or save, and no code, JSON or None where a clerk reads."""
    content = html.split('id="content"', 1)[1]
    assert 'name="_save"' not in content
    assert "<textarea" not in content
    assert 'type="text"' not in content
    for code in ("None", "COLLECTION", "EMPTY_RETURN", "idempotency", "fingerprint", "{&quot;"):
        assert code not in content, code


def test_a_load_sheet_shows_its_lines_who_when_and_related_documents(
    client, head_office, sales_rep, north, stocked
):
    load = _load(sales_rep, north, head_office, stocked, ["12.7KG", "9KG"])
    other = _load(sales_rep, north, head_office, stocked, ["14KG"], quantity=2)
    client.force_login(head_office)
    response, html = _page(client, "stock_distribution", load.pk)
    _assert_read_only_words(html)
    lines, movements, related = response.context["panels"]
    assert lines.headers == ["Product", "Full", "Empty"]
    assert [[c.text for c in row] for row in lines.rows] == [
        [f"12.7KG · {stocked['12.7KG'].name}", "1,200", "-"],
        [f"9KG · {stocked['9KG'].name}", "1,200", "-"],
    ]
    assert [c.text for c in lines.foot] == ["Total", "2,400", "-"]
    assert [row[1].text for row in movements.rows] == ["Collection", "Collection"]
    assert {row[4].text for row in movements.rows} == {"1,200"}
    assert movements.rows[0][6].text.startswith("vehicle ")
    assert [row[0].text for row in related.rows] == [other.distribution_no]
    assert related.rows[0][0].url == reverse("admin:stock_distribution_change", args=[other.pk])
    assert related.foot[0].url.endswith(f"?q={load.distribution_no}")  # its audit entry
    assert "Load sheet: full cylinders from depot NORTH onto the vehicle" in html
    assert f"by {head_office}" in html  # who posted it
    assert "Posted" in html


def test_an_empty_return_shows_its_empties(client, head_office, sales_rep, north, stocked):
    from stock.services import stock_adjust

    stock_adjust(
        product=stocked["9KG"],
        state="EMPTY",
        counted=1500,
        reason="opening empties",
        sales_rep=sales_rep,
        actor=head_office,
    )
    back = distribution_post(
        sales_rep=sales_rep,
        depot=north,
        kind="EMPTY_RETURN",
        lines=[{"product": stocked["9KG"], "quantity": 1500}],
        actor=head_office,
    )
    client.force_login(head_office)
    response, html = _page(client, "stock_distribution", back.pk)
    _assert_read_only_words(html)
    lines = response.context["panels"][0]
    assert [[c.text for c in row][1:] for row in lines.rows] == [["-", "1,500"]]
    assert "Empty return: empty cylinders from the vehicle" in html


def test_a_transfer_shows_its_lines_and_movements(client, head_office, north, south, stocked):
    transfer = stock_transfer(
        from_depot=north,
        to_depot=south,
        lines=[{"product": stocked["12.7KG"], "quantity": 1250}],
        reference="WB-9",
        actor=head_office,
    )
    client.force_login(head_office)
    response, html = _page(client, "stock_transfer", transfer.pk)
    _assert_read_only_words(html)
    lines, movements, _related = response.context["panels"]
    assert [c.text for c in lines.rows[0]][1:] == ["1,250", "-"]
    assert [(m[5].text, m[6].text) for m in movements.rows] == [("depot NORTH", "depot SOUTH")]
    assert "Full cylinders from depot NORTH to depot SOUTH." in html
    assert "WB-9" in html


def test_a_count_sheet_shows_system_counted_and_variance(client, head_office, north, stocked):
    count = stock_count_post(
        depot=north,
        lines=[
            {"product": stocked["12.7KG"], "state": "FULL", "counted": 2997},
            {"product": stocked["9KG"], "state": "FULL", "counted": 3002},
            {"product": stocked["14KG"], "state": "FULL", "counted": 3000},
        ],
        reason="month end",
        actor=head_office,
    )
    client.force_login(head_office)
    response, html = _page(client, "stock_stockcount", count.pk)
    _assert_read_only_words(html)
    lines, movements, _related = response.context["panels"]
    assert lines.headers == ["Product", "Full or empty", "System held", "Counted", "Variance"]
    assert [[c.text for c in row][1:] for row in lines.rows] == [
        ["Full", "3,000", "2,997", "-3"],
        ["Full", "3,000", "3,002", "+2"],
        ["Full", "3,000", "3,000", "0"],
    ]
    assert [c.text for c in lines.foot][2:] == ["9,000", "8,999", "-1"]
    assert len(movements.rows) == 2  # the two lines that differ
    assert "2 of 3 lines differ" in html
    assert "Depot NORTH" in html


def test_a_page_costs_the_same_queries_for_one_line_as_for_five(
    client, head_office, sales_rep, north, stocked
):
    one = _load(sales_rep, north, head_office, stocked, CYLINDERS[:1], quantity=5)
    five = _load(sales_rep, north, head_office, stocked, CYLINDERS, quantity=5)
    client.force_login(head_office)
    counts = []
    for document in (one, five):
        url = reverse("admin:stock_distribution_change", args=[document.pk])
        client.get(url)  # warm the session and the content types
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_a_transfer_and_count_page_cost_the_same_for_more_lines(
    client, head_office, north, south, stocked
):
    small = stock_transfer(
        from_depot=north,
        to_depot=south,
        lines=[{"product": stocked["12.7KG"], "quantity": 1}],
        actor=head_office,
    )
    large = stock_transfer(
        from_depot=north,
        to_depot=south,
        lines=[{"product": stocked[code], "quantity": 1} for code in CYLINDERS],
        actor=head_office,
    )
    few = stock_count_post(
        depot=north,
        lines=[{"product": stocked["9KG"], "state": "FULL", "counted": 1}],
        reason="r",
        actor=head_office,
    )
    many = stock_count_post(
        depot=north,
        lines=[{"product": stocked[c], "state": "FULL", "counted": 2} for c in CYLINDERS],
        reason="r",
        actor=head_office,
    )
    client.force_login(head_office)
    for name, pair in (("stock_transfer", (small, large)), ("stock_stockcount", (few, many))):
        counts = []
        for document in pair:
            url = reverse(f"admin:{name}_change", args=[document.pk])
            client.get(url)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counts.append(len(queries))
        assert counts[0] == counts[1], (name, counts)


def test_the_lists_show_key_columns_in_words(client, head_office, sales_rep, north, stocked):
    _load(sales_rep, north, head_office, stocked, ["12.7KG"])
    client.force_login(head_office)
    listed = client.get(reverse("admin:stock_distribution_changelist"))
    assert [c for c in listed.context["cl"].list_display if c != "action_checkbox"] == [
        "distribution_no",
        "happened",
        "kind",
        "representative",
        "depot",
        "cylinders",
    ]
    html = listed.content.decode()
    assert "1,200 x 12.7KG" in html
    assert f"{sales_rep.vehicle_no} ({sales_rep.username})" in html
    table = html.split('id="result_list"', 1)[1].split("</table>", 1)[0]
    assert "COLLECTION" not in table
    assert "Collection" in table


def test_a_cylinder_return_shows_its_lines_deposits_and_related_documents(
    client, settings, head_office, loaded_vehicle, customer_factory, products
):
    from sales.services import cylinder_return, deposit_set, sale_post

    settings.CURRENCY = "LKR"
    deposit_set(product=products["12.7KG"], amount=D("2500.00"), actor=head_office)
    customer = customer_factory("CREDIT", credit_limit=D("100000.00"))
    sale = sale_post(
        customer=customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 3, "empties_returned": 0}],
    )
    returned = cylinder_return(
        customer=customer,
        sales_rep=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 2}],
        actor=loaded_vehicle,
    )
    client.force_login(head_office)
    response, html = _page(client, "sales_cylinderreturn", returned.pk)
    _assert_read_only_words(html)
    lines, related = response.context["panels"]
    assert lines.headers == ["Product", "Empty cylinders", "Deposit each", "Deposit refunded"]
    assert [c.text for c in lines.rows[0]][1:] == ["2", "LKR 2,500.00", "LKR 5,000.00"]
    assert [c.text for c in lines.foot] == ["Total", "2", "", "LKR 5,000.00"]
    texts = [row[0].text for row in related.rows]
    assert texts[0] == f"{customer.code} {customer.name}"
    assert related.rows[0][0].url == reverse("admin:sales_customer_change", args=[customer.pk])
    assert sale.number in texts  # the refund was credited to the account: it settled the sale
    assert "LKR 5,000.00 deposit refunded, credited to the customer" in html
    listed = client.get(reverse("admin:sales_cylinderreturn_changelist")).content.decode()
    assert "LKR 5,000.00 to the account" in listed


def test_nothing_on_a_document_page_is_saved(client, head_office, sales_rep, north, stocked):
    load = _load(sales_rep, north, head_office, stocked, ["12.7KG"])
    client.force_login(head_office)
    url = reverse("admin:stock_distribution_change", args=[load.pk])
    client.post(url, {"quantity": "1", "kind": "EMPTY_RETURN", "_save": "Save"})
    load.refresh_from_db()
    assert (load.quantity, load.kind) == (1200, "COLLECTION")
    assert Distribution.objects.count() == 1
    assert not Transfer.objects.exists()
    assert not StockCount.objects.exists()


def test_a_filling_plant_dispatch_reads_in_words(client, head_office, sales_rep, north, stocked):
    from stock.models import StockMovement
    from stock.services import empties_dispatch, stock_adjust

    stock_adjust(
        product=stocked["9KG"],
        state="EMPTY",
        counted=1400,
        reason="empties",
        depot=north,
        actor=head_office,
    )
    empties_dispatch(
        depot=north, product=stocked["9KG"], quantity=1250, reference="DN-77", actor=head_office
    )
    moved = StockMovement.objects.get(kind="PLANT_DISPATCH")
    client.force_login(head_office)
    listed = client.get(
        reverse("admin:stock_stockmovement_changelist"), {"kind__exact": "PLANT_DISPATCH"}
    )
    table = listed.content.decode().split('id="result_list"', 1)[1].split("</table>", 1)[0]
    assert "Plant dispatch (empties to the filling plant)" in table
    assert "1,250 9KG empty" in table
    assert "depot NORTH → filling plant" in table
    _response, html = _page(client, "stock_stockmovement", moved.pk)
    _assert_read_only_words(html)
    assert "DN-77" in html
    assert "Doc type" not in html
    assert "PLANT_DISPATCH" not in html.split('id="content-main"', 1)[1]
