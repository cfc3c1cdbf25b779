"""History pages (core.admin_mixins.HistoryAdmin, core.admin_history): each version with
who and when, a field-by-field table of what changed in readable values (choices by their
labels, a related row by its name as it was then, money with the currency, moments in
words), never "Change reason: None", nothing that looks editable, and a list that costs
the same queries for two versions as for many."""

import re
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.admin_history import flatten, versions
from sales.services import customer_update, rate_set
from stock.services import product_update

pytestmark = pytest.mark.django_db


def _main(html: str) -> str:
    """The page's own content (not the header's search box or log-out form)."""
    return html.split('id="content-main"', 1)[1]


@pytest.fixture
def priced(products, head_office, settings):
    settings.CURRENCY = "LKR"
    product = products["9KG"]
    product_update(product=product, actor=head_office, data={"list_price": D("2850.00")})
    product_update(product=product, actor=head_office, data={"list_price": D("12500.00")})
    return product


def test_the_list_shows_each_change_field_by_field_in_words(client, head_office, priced):
    client.force_login(head_office)
    response = client.get(reverse("admin:stock_product_history", args=[priced.pk]))
    assert response.status_code == 200
    newest, older = response.context["versions"][:2]
    assert [(c.label, c.before, c.after) for c in newest.changes] == [
        ("List price", "LKR 2,850.00", "LKR 12,500.00")
    ]
    assert newest.who == str(head_office)
    assert re.fullmatch(r"\d{1,2} \w{3} \d{4} \d\d:\d\d", newest.when)
    assert ("List price", "", "LKR 2,850.00") in [
        (c.label, c.before, c.after) for c in older.changes
    ]
    main = _main(response.content.decode())
    assert "List price" in main
    assert "LKR 12,500.00" in main
    assert "None" not in main
    assert "Change reason" not in main
    assert "<input" not in main
    assert "<select" not in main


def test_choices_read_as_labels_and_the_first_version_as_its_values(
    client, head_office, customer_factory
):
    customer = customer_factory("CASH")
    customer_update(customer=customer, actor=head_office, data={"payment_type": "CREDIT"})
    client.force_login(head_office)
    response = client.get(reverse("admin:sales_customer_history", args=[customer.pk]))
    changed, created = response.context["versions"]
    assert [(c.label, c.before, c.after) for c in changed.changes] == [
        ("Payment type", "Cash", "Credit")
    ]
    assert created.what == "Created"
    assert created.first
    assert ("Depot", "", "NORTH") in [(c.label, c.before, c.after) for c in created.changes]
    main = _main(response.content.decode())
    assert "CREDIT" not in main
    assert "Cash" in main


def test_a_related_row_is_named_as_it_was_then(client, head_office, customer_factory, products):
    customer = customer_factory("CREDIT")
    customer_update(customer=customer, actor=head_office, data={"name": "Old Name Stores"})
    rate = rate_set(
        customer=customer, product=products["BULK"], rate=D("260.00"), actor=head_office
    )
    customer_update(customer=customer, actor=head_office, data={"name": "New Name Stores"})
    client.force_login(head_office)
    record = rate.history.order_by("history_id").first()
    page = client.get(reverse("admin:sales_rate_simple_history", args=[rate.pk, record.history_id]))
    assert page.status_code == 200
    values = dict(page.context["version"].values)
    assert values["Customer"] == f"{customer.code} Old Name Stores"  # not today's name
    assert "New Name Stores" not in _main(page.content.decode()).split("The rate now")[0]


def test_a_version_page_is_read_only_and_not_a_revert_form(client, head_office, priced):
    client.force_login(head_office)
    record = priced.history.order_by("-history_id").first()
    url = reverse("admin:stock_product_simple_history", args=[priced.pk, record.history_id])
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["revert_disabled"] is True
    assert "admin/simple_history/version.html" in [t.name for t in page.templates]
    main = _main(page.content.decode())
    for editable in ("<input", "<select", "<textarea", 'name="_save"', "Revert", "<form"):
        assert editable not in main, editable
    assert "List price" in main
    assert "LKR 2,850.00" in main  # before
    assert "LKR 12,500.00" in main  # after, and its value then
    before = priced.history.count()
    assert client.post(url, {"list_price": "1", "_save": "Save"}).status_code == 403
    assert priced.history.count() == before


def test_a_document_version_shows_its_own_lines(client, head_office, loaded_vehicle):
    from stock.models import Distribution

    distribution = Distribution.objects.order_by("id").first()
    client.force_login(head_office)
    record = distribution.history.get()
    page = client.get(
        reverse(
            "admin:stock_distribution_simple_history", args=[distribution.pk, record.history_id]
        )
    )
    (panel,) = page.context["related_panels"]
    assert panel.rows == [[f"12.7KG · {distribution.product.name}", "20"]]
    assert "Collection" in dict(page.context["version"].values).values()


def test_the_history_list_costs_the_same_for_two_versions_and_for_many(
    client, head_office, products
):
    few, many = products["9KG"], products["12.7KG"]
    for price in ("100.00", "200.00"):
        product_update(product=few, actor=head_office, data={"list_price": D(price)})
    for i in range(1, 9):
        product_update(product=many, actor=head_office, data={"list_price": D(i * 100)})
    client.force_login(head_office)
    counts = []
    for product in (few, many):
        url = reverse("admin:stock_product_history", args=[product.pk])
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], (counts, [q["sql"] for q in queries.captured_queries])


def test_versions_compare_only_what_changed(head_office, priced):
    records = list(priced.history.order_by("-history_date", "-history_id"))
    shown = versions(type(priced), records, None)
    assert [len(v.changes) for v in shown[:-1]] == [1] * (len(shown) - 1)
    assert shown[-1].first


def test_nested_values_are_flattened():
    assert flatten({"a": {"b": 1, "c": [1, 2]}, "d": [{"e": "x"}]}) == [
        ("a b", 1),
        ("a c", "1, 2"),
        ("d 1 e", "x"),
    ]
