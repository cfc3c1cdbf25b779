"""The reorder levels' admin (saved by reorder_level_set), the depot page's panel of
them, and the dashboard's depots below their minimum (a manager sees theirs)."""

import pytest
from django.urls import reverse

from core.models import AuditLog
from stock.models import ReorderLevel
from stock.services import reorder_level_set, stock_receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def levels(north, south, cyl, nine, head_office):
    reorder_level_set(depot=north, product=cyl, minimum_full=20, actor=head_office)
    reorder_level_set(depot=north, product=nine, minimum_full=2, actor=head_office)
    reorder_level_set(depot=south, product=cyl, minimum_full=7, actor=head_office)
    stock_receive(depot=north, product=cyl, quantity=12, actor=head_office)
    stock_receive(depot=north, product=nine, quantity=3, actor=head_office)


def test_head_office_adds_a_level_through_the_service(client, head_office, north, cyl):
    client.force_login(head_office)
    response = client.post(
        reverse("admin:stock_reorderlevel_add"),
        {"depot": north.pk, "product": cyl.pk, "minimum_full": "15"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    level = ReorderLevel.objects.get()
    assert level.minimum_full == 15
    entry = AuditLog.objects.get(action="reorder_level_set")
    assert entry.actor == head_office
    assert entry.data["minimum_full"] == 15


def test_changing_the_minimum_is_audited_with_the_old_figure(client, head_office, levels, north):
    level = ReorderLevel.objects.get(depot=north, product__code="12.7KG")
    client.force_login(head_office)
    url = reverse("admin:stock_reorderlevel_change", args=[level.pk])
    response = client.post(url, {"minimum_full": "25"})
    assert response.status_code == 302
    level.refresh_from_db()
    assert level.minimum_full == 25
    entry = AuditLog.objects.filter(action="reorder_level_set").order_by("-seq").first()
    assert (entry.data["before"], entry.data["minimum_full"]) == (20, 25)


def test_a_refused_minimum_is_shown_on_the_form(client, head_office, levels, north):
    level = ReorderLevel.objects.get(depot=north, product__code="12.7KG")
    client.force_login(head_office)
    url = reverse("admin:stock_reorderlevel_change", args=[level.pk])
    response = client.post(url, {"minimum_full": "2000000"})
    assert response.status_code == 200
    assert "check the figure" in response.content.decode()
    level.refresh_from_db()
    assert level.minimum_full == 20


def test_the_list_shows_the_stock_against_the_minimum(client, manager, levels):
    client.force_login(manager)
    response = client.get(reverse("admin:stock_reorderlevel_changelist"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Below by 8" in page
    assert "SOUTH" not in page  # not the manager's depot
    assert client.get(reverse("admin:stock_reorderlevel_add")).status_code == 403


def test_the_depot_page_shows_its_reorder_levels(client, head_office, levels, north):
    client.force_login(head_office)
    page = client.get(reverse("admin:core_depot_change", args=[north.pk])).content.decode()
    assert "Reorder levels (minimum full cylinders)" in page
    assert "Below by 8" in page
    assert page.count(">Change</a>") >= 2
    assert "Below by 7" not in page  # SOUTH's level is on SOUTH's page


def _low_stock(client):
    """The dashboard's low-stock panel as (depot, product, full, minimum, short) rows; the
    apps' older "Below the reorder level" panel that repeated it is gone."""
    response = client.get(reverse("admin:index"), {"refresh": "1"})
    titles = [p["title"] for p in response.context["dashboard_panels"]]
    assert "Below the reorder level" not in titles
    rows = response.context["dashboard"]["panels"]["low_stock"]["data"]["rows"]
    return [(r["depot"], r["product"], r["full"], r["minimum"], r["short"]) for r in rows]


def test_the_dashboard_lists_the_depots_below_their_minimum(
    client, head_office, manager, levels, cyl
):
    client.force_login(head_office)
    assert _low_stock(client) == [("NORTH", cyl.name, 12, 20, 8), ("SOUTH", cyl.name, 0, 7, 7)]
    client.force_login(manager)
    assert _low_stock(client) == [("NORTH", cyl.name, 12, 20, 8)]


def test_the_depot_form_posts_as_before_with_its_levels_shown(client, head_office, levels, north):
    """The levels are a read-only panel, not an inline: the depot's own form (name,
    open or closed) posts without any formset data, as scripts and older tests send it."""
    client.force_login(head_office)
    response = client.post(
        reverse("admin:core_depot_change", args=[north.pk]), {"name": "Nord", "is_active": "on"}
    )
    assert response.status_code == 302
    north.refresh_from_db()
    assert north.name == "Nord"
