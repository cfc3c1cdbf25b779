"""The admin header's global search (core.search, /admin/search/): customers by account
number or name, documents by number, grouped by kind, scoped to the user's depots, in a
constant number of queries, and straight to the document when its whole number is typed."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.search import number_term, search
from sales.services import payment_record, sale_post, sale_void
from stock.models import Distribution

pytestmark = pytest.mark.django_db


@pytest.fixture
def documents(customer_factory, loaded_vehicle, products, head_office, south):
    customer = customer_factory(payment_type="CREDIT", credit_limit=Decimal("100000"))
    southern = customer_factory(depot=south)
    southern.name = "Southern Bakery"
    southern.save(update_fields=["name"])
    sales = [
        sale_post(
            customer=customer,
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[{"product": products["12.7KG"], "quantity": 1}],
        )
        for _ in range(3)
    ]
    payment = payment_record(customer=customer, amount="3000.00", actor=head_office)
    sale_void(transaction=sales[2], actor=head_office, reason="keyed twice")
    return {"customer": customer, "southern": southern, "sales": sales, "payment": payment}


def test_a_number_is_matched_from_its_start_under_its_own_series_only():
    assert number_term("tx-2026-0000", "TX") == "TX-2026-0000"
    assert number_term("TX-2026-000001", "PAY") is None
    assert number_term("2026-000001", "PAY") == "PAY-2026-000001"
    assert number_term("Bakery", "TX") is None


def test_customers_by_code_or_name_and_documents_by_number_grouped(documents, head_office):
    customer, sale = documents["customer"], documents["sales"][0]
    by_code = search(head_office, customer.code.lower())
    assert [g.title for g in by_code.groups] == ["Customers"]
    assert by_code.groups[0].hits[0].exact
    assert customer.name in by_code.groups[0].hits[0].text
    assert by_code.opens == ""  # a customer is listed, not opened

    by_name = search(head_office, "bakery")
    assert [h.text.split(" · ")[0] for h in by_name.groups[0].hits] == [documents["southern"].code]

    year_prefix = sale.number[: len("TX-2026-")]
    found = search(head_office, year_prefix)
    assert [g.title for g in found.groups] == ["Sales"]
    assert len(found.groups[0].hits) == 3
    assert not any(h.exact for h in found.groups[0].hits)
    assert "LKR" in found.groups[0].hits[0].text or "3,000.00" in found.groups[0].hits[0].text

    whole = search(head_office, sale.number)
    assert whole.opens == f"/admin/sales/transaction/{sale.pk}/change/"

    # Without the series, a number is tried under every series: the sale and the payment.
    bare = search(head_office, sale.number.split("-", 1)[1])
    titles = {g.title for g in bare.groups}
    assert {"Sales", "Payments and receipts", "Credit notes"} <= titles
    assert bare.opens == ""  # three documents carry it: the clerk chooses


def test_a_manager_finds_only_their_depots(documents, manager):
    assert search(manager, documents["customer"].code).groups
    assert not search(manager, documents["southern"].code).groups
    assert not search(manager, "Southern").groups


def test_the_page_lists_by_kind_and_a_whole_number_opens_the_document(
    client, documents, head_office
):
    client.force_login(head_office)
    sale = documents["sales"][0]
    page = client.get("/admin/search/", {"q": sale.number[:8]})
    assert page.status_code == 200
    text = page.content.decode()
    assert "<h2" in text
    assert "Sales (3)" in text
    assert f'href="/admin/sales/transaction/{sale.pk}/change/"' in text
    assert 'id="hsh-search-q"' in text
    assert f'value="{sale.number[:8]}"' in text

    opened = client.get("/admin/search/", {"q": sale.number.lower()})
    assert opened.status_code == 302
    assert opened["Location"] == f"/admin/sales/transaction/{sale.pk}/change/"
    listed = client.get("/admin/search/", {"q": sale.number, "all": "1"})
    assert listed.status_code == 200
    assert sale.number in listed.content.decode()

    distribution = Distribution.objects.first()
    opened = client.get("/admin/search/", {"q": distribution.distribution_no})
    assert opened["Location"] == f"/admin/stock/distribution/{distribution.pk}/change/"

    nothing = client.get("/admin/search/", {"q": "zz-nothing-here"})
    assert "Nothing found" in nothing.content.decode()


def test_search_needs_the_admin_login(client, sales_rep):
    assert client.get("/admin/search/", {"q": "C001"}).status_code == 302
    client.force_login(sales_rep)
    assert client.get("/admin/search/", {"q": "C001"}).status_code == 302


def _queries(user, text):
    with CaptureQueriesContext(connection) as queries:
        search(user, text)
    return len(queries)


def test_the_query_count_does_not_grow_with_what_is_found(
    documents, head_office, customer_factory, loaded_vehicle, products
):
    sale = documents["sales"][0]
    bare = sale.number.split("-", 1)[1][:5]  # "2026-": every series
    search(head_office, "C0")  # the user's permissions, read once per request
    counts = (_queries(head_office, "C0"), _queries(head_office, bare))
    for _ in range(4):
        customer = customer_factory()
        sale_post(
            customer=customer,
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[{"product": products["12.7KG"], "quantity": 1}],
        )
    assert (_queries(head_office, "C0"), _queries(head_office, bare)) == counts
    # One query per kind that can hold the text: customers, then the eight series.
    assert counts == (1, 9)
    assert _queries(head_office, sale.number) == 2  # a TX- number: customers and sales


def test_the_search_page_reads_as_many_queries_whatever_it_finds(
    client, documents, head_office, customer_factory, loaded_vehicle, products
):
    client.force_login(head_office)
    bare = documents["sales"][0].number.split("-", 1)[1][:5]

    def page_queries():
        with CaptureQueriesContext(connection) as queries:
            for text in ("C0", bare):
                assert client.get("/admin/search/", {"q": text}).status_code == 200
        return len(queries)

    before = page_queries()
    for _ in range(3):
        sale_post(
            customer=customer_factory(),
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[{"product": products["12.7KG"], "quantity": 1}],
        )
    assert page_queries() == before


def test_a_statement_by_its_whole_number_in_the_managers_depots_only(
    customer_factory, head_office, manager, south
):
    from django.utils import timezone

    from billing.services.statement_issue import statement_issue

    today = timezone.localdate()
    mine = statement_issue(
        customer=customer_factory(), date_from=today, date_to=today, actor=head_office
    )
    theirs = statement_issue(
        customer=customer_factory(depot=south), date_from=today, date_to=today, actor=head_office
    )
    found = search(head_office, mine.number.lower())
    assert [g.title for g in found.groups] == ["Customer statements"]
    assert found.opens == f"/admin/billing/customerstatement/{mine.pk}/change/"
    assert search(manager, mine.number).opens
    assert not search(manager, theirs.number).groups
    assert not search(head_office, "ST-99999999").groups
