"""A MANAGER sees only their depots: lists, object pages, form choices and filters."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from core.models import Depot, User
from core.scoping import ALL, scope_queryset, visible_depot_ids

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(north, south, user_factory, manager):
    return {
        "north_rep": user_factory("SALES", depots=[north], username="rep_north"),
        "south_rep": user_factory("SALES", depots=[south], username="rep_south"),
        "south_manager": user_factory("MANAGER", depots=[south], username="mgr_south"),
    }


def test_visible_depots_per_role(head_office, manager, sales_rep, north):
    assert visible_depot_ids(head_office) is ALL
    assert visible_depot_ids(manager) == [north.pk]
    assert visible_depot_ids(sales_rep) == []


def test_inactive_manager_sees_nothing(manager):
    manager.is_active = False
    assert visible_depot_ids(manager) == []


def test_scope_queryset_on_depots_and_users(manager, world, north):
    assert list(scope_queryset(Depot.objects.all(), manager)) == [north]
    names = set(scope_queryset(User.objects.all(), manager).values_list("username", flat=True))
    assert names == {"northmanager", "rep_north"}


def test_manager_with_two_depots_sees_each_user_once(user_factory, north, south, world):
    both = user_factory("MANAGER", depots=[north, south], username="regional")
    users = list(scope_queryset(User.objects.all(), both))
    assert len(users) == len(set(users))
    assert {"rep_north", "rep_south", "mgr_south", "regional"} <= {u.username for u in users}


def test_depot_changelist_lists_only_own_depots(client, manager, world):
    client.force_login(manager)
    response = client.get(reverse("admin:core_depot_changelist"))
    codes = {d.code for d in response.context["cl"].result_list}
    assert codes == {"NORTH"}


def test_user_changelist_lists_only_own_depot_staff(client, manager, world):
    client.force_login(manager)
    response = client.get(reverse("admin:core_user_changelist"))
    names = {u.username for u in response.context["cl"].result_list}
    assert names == {"northmanager", "rep_north"}


def test_object_of_another_depot_is_not_found(client, manager, world, south):
    client.force_login(manager)
    for url in (
        reverse("admin:core_user_change", args=[world["south_rep"].pk]),
        reverse("admin:core_depot_change", args=[south.pk]),
    ):
        response = client.get(url, follow=True)
        assert response.redirect_chain[-1][0] == reverse("admin:index"), url
        message = str(next(iter(response.context["messages"])))
        assert "doesn’t exist" in message  # noqa: RUF001 - Django's own wording
    # History pages look rows up by id: they must not show another depot's either.
    for url in (
        reverse("admin:core_user_history", args=[world["south_rep"].pk]),
        reverse("admin:core_depot_history", args=[south.pk]),
    ):
        assert client.get(url).status_code == 404, url
    record = world["south_rep"].history.first()
    url = reverse("admin:core_user_simple_history", args=[world["south_rep"].pk, record.history_id])
    assert client.get(url).status_code == 404


def test_depot_filter_offers_only_own_depots(client, manager, world, north, south):
    client.force_login(manager)
    response = client.get(reverse("admin:core_user_changelist"))
    assert f"depots__id__exact={north.pk}".encode() in response.content
    assert f"depots__id__exact={south.pk}".encode() not in response.content


def test_form_choices_are_scoped(manager, head_office, north, south):
    model_admin = admin.site._registry[User]
    request = RequestFactory().get("/")
    request.user = manager
    form = model_admin.get_form(request, obj=manager)
    assert list(form.base_fields["depots"].queryset) == [north]
    request.user = head_office
    form = model_admin.get_form(request, obj=manager)
    assert set(form.base_fields["depots"].queryset) == {north, south}


def test_dashboard_shows_own_depots_only(client, manager, world):
    client.force_login(manager)
    response = client.get(reverse("admin:index"))
    panel = next(p for p in response.context["dashboard_panels"] if p["title"] == "Depots")
    assert [row[0] for row in panel["rows"]] == ["NORTH"]
    assert panel["rows"][0][2] == "1"  # rep_north, grouped as a number reads (core.display)
