"""Whatever a user puts in an admin URL, the answer is a page or a refusal, never a 500.

The changelists are walked from the admin registry, so a ModelAdmin (or a filter)
registered later is covered without a new row here. Run on PostgreSQL too: a NUL in a
text parameter is what PostgreSQL refuses ("text fields cannot contain NUL").
"""

import pytest
from django.contrib import admin
from django.contrib.admin.views.main import ORDER_VAR, PAGE_VAR, SEARCH_VAR
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse
from simple_history.admin import SimpleHistoryAdmin

pytestmark = pytest.mark.django_db

ANSWERS = (200, 302, 400, 404)


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "pw-123456789")


def _changelists(user):
    """(url, parameters) of every changelist `user` may open, with each of its filters'
    parameters, the date hierarchy's, ordering, page and search."""
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        try:
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        except NoReverseMatch:
            continue
        request = RequestFactory().get(url)
        request.user = user
        if not model_admin.has_view_or_change_permission(request):
            continue
        changelist = model_admin.get_changelist_instance(request)
        parameters = {ORDER_VAR, PAGE_VAR, SEARCH_VAR}
        for spec in changelist.filter_specs:
            parameters.update(spec.expected_parameters())
        if model_admin.date_hierarchy:
            field = model_admin.date_hierarchy
            parameters.update({f"{field}__year", f"{field}__month", f"{field}__day"})
        yield url, sorted(parameters)


@pytest.mark.parametrize("who", ["head_office", "superuser"])
@pytest.mark.parametrize("value", ["\x00", "a\x00b", "\x1f", "abc", "99999999999999999999", ""])
def test_a_control_character_in_any_changelist_parameter_is_not_a_500(client, request, who, value):
    user = request.getfixturevalue(who)
    client.force_login(user)
    client.raise_request_exception = False  # a 500 is counted, not raised
    walked, failures = 0, []
    for url, parameters in _changelists(user):
        for name in parameters:
            walked += 1
            status = client.get(url, {name: value}).status_code
            if status not in ANSWERS:
                failures.append((url, name, status))
    assert walked > 50  # the walk really covered the filters
    assert failures == []


def test_the_refusal_is_a_plain_bad_request_page(client, head_office):
    client.force_login(head_office)
    response = client.get(reverse("admin:sales_transaction_changelist"), {"status__exact": "\x00"})
    assert response.status_code == 400
    assert "Bad request" in response.content.decode()
    assert "status__exact" in response.content.decode()


def test_a_control_character_in_a_parameter_name_is_refused(client, head_office):
    client.force_login(head_office)
    response = client.get(reverse("admin:sales_customer_changelist") + "?pay%00ment=1")
    assert response.status_code == 400


def test_a_nul_in_any_search_box_is_dropped(client, head_office, north):
    """As the sale and ledger searches already did: the rest of the text is searched."""
    client.force_login(head_office)
    response = client.get(reverse("admin:core_depot_changelist"), {"q": "NOR\x00TH"})
    assert response.status_code == 200
    assert [d.code for d in response.context["cl"].result_list] == ["NORTH"]


def test_ordinary_filters_still_work(client, head_office, north, south):
    client.force_login(head_office)
    response = client.get(reverse("admin:core_depot_changelist"), {"is_active__exact": "1"})
    assert response.status_code == 200
    assert {d.code for d in response.context["cl"].result_list} == {"NORTH", "SOUTH"}


# --- History pages -------------------------------------------------------------------


def _history_models():
    return sorted(
        f"{model._meta.app_label}.{model._meta.model_name}"
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, SimpleHistoryAdmin)
    )


def test_every_history_admin_is_walked():
    assert len(_history_models()) >= 9


@pytest.mark.parametrize("label", _history_models())
@pytest.mark.parametrize("version", ["abc", "1.5", "%00", "99999999999999999999999"])
def test_a_non_numeric_history_version_is_a_404(client, head_office, label, version):
    client.force_login(head_office)
    app_label, model_name = label.split(".")
    url = f"/admin/{app_label}/{model_name}/{head_office.pk}/history/{version}/"
    assert client.get(url).status_code in (400, 404)


def test_a_real_history_version_still_shows(client, head_office, north):
    client.force_login(head_office)
    version = north.history.first()
    url = reverse("admin:core_depot_simple_history", args=[north.pk, version.history_id])
    assert client.get(url).status_code == 200


# --- "Show counts" (facets) ------------------------------------------------------------


@pytest.fixture
def audited_stock(head_office, manager, sales_rep, north):
    """Rows for every faceted filter to count: an actor in the audit log, a vehicle in the
    stock levels and the ledger."""
    from stock.models import Product
    from stock.services import distribution_create, stock_receive

    product = Product.objects.get(code="9KG")
    stock_receive(depot=north, product=product, quantity=10, actor=head_office)
    distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=product,
        quantity=2,
        kind="COLLECTION",
        actor=manager,
    )


@pytest.mark.parametrize("who", ["head_office", "manager"])
def test_every_changelist_shows_counts(client, request, audited_stock, who):
    """With "Show counts", Django sets each filter's value to the choice itself (an integer
    pk, not the URL's text) while counting: every filter must take it."""
    user = request.getfixturevalue(who)
    client.force_login(user)
    client.raise_request_exception = False
    walked, failures = 0, []
    for url, parameters in _changelists(user):
        walked += 1
        status = client.get(url, {"_facets": "True"}).status_code
        if status != 200:
            failures.append((url, status))
        for name in parameters:
            status = client.get(url, {"_facets": "True", name: "1"}).status_code
            if status not in ANSWERS:
                failures.append((url, name, status))
    assert walked > 10
    assert failures == []


def test_counts_are_shown_for_the_actor_and_vehicle_filters(client, head_office, audited_stock):
    client.force_login(head_office)
    response = client.get(reverse("admin:core_auditlog_changelist"), {"_facets": "True"})
    assert response.status_code == 200
    assert "headoffice (" in response.content.decode()
    response = client.get(reverse("admin:stock_stocklevel_changelist"), {"_facets": "True"})
    assert response.status_code == 200
    assert "(northrep) (" in response.content.decode()
