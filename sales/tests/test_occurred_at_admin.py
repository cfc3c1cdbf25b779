"""The pages of a sale, payment, cylinder return and distribution show "Happened"
(occurred_at, captured on the handheld) beside "Posted" (created_at) when they differ,
in the business time zone; a document posted live shows "Posted" alone."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sales.admin.document_pages import moment
from sales.services import customer_create, cylinder_return, payment_record, rate_set, sale_post
from stock.services import distribution_create, stock_receive

pytestmark = pytest.mark.django_db

HOST = {"HTTP_HOST": "127.0.0.1"}


@pytest.fixture
def documents(north, head_office, sales_rep, products):
    """A sale, a payment, a cylinder return and a collection that happened yesterday and
    were synced now, and a live sale."""
    opened = timezone.now() - timedelta(days=10)
    cyl = products["12.7KG"]
    customer = customer_create(
        code="H1", name="Hotel", depot=north, payment_type="CREDIT", actor=head_office, at=opened
    )
    rate_set(customer=customer, product=cyl, rate="3000", actor=head_office, at=opened)
    stock_receive(depot=north, product=cyl, quantity=50, actor=head_office, at=opened)
    happened = timezone.now() - timedelta(days=1, hours=2)
    collection = distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=10,
        kind="COLLECTION",
        actor=sales_rep,
        occurred_at=happened,
    )
    lines = [{"product": cyl, "quantity": 2, "empties_returned": 0}]
    sale = sale_post(
        customer=customer, sales_rep=sales_rep, actor=sales_rep, lines=lines, occurred_at=happened
    )
    live = sale_post(customer=customer, sales_rep=sales_rep, actor=sales_rep, lines=lines)
    payment = payment_record(customer=customer, amount="100", actor=sales_rep, occurred_at=happened)
    returned = cylinder_return(
        customer=customer,
        sales_rep=sales_rep,
        lines=[{"product": cyl, "quantity": 1}],
        actor=sales_rep,
        occurred_at=happened,
    )
    return {
        "sales_transaction": sale,
        "sales_payment": payment,
        "sales_cylinderreturn": returned,
        "stock_distribution": collection,
        "live": live,
    }


def page(client, user, admin_name, obj) -> str:
    client.force_login(user)
    response = client.get(reverse(f"admin:{admin_name}_change", args=[obj.pk]), **HOST)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    "admin_name",
    ["sales_transaction", "sales_payment", "sales_cylinderreturn", "stock_distribution"],
)
def test_a_synced_documents_page_shows_when_it_happened_beside_when_it_was_posted(
    client, head_office, documents, admin_name
):
    document = documents[admin_name]
    document.refresh_from_db()
    text = page(client, head_office, admin_name, document)
    assert "Posted" in text
    assert "Happened" in text
    happened = timezone.localtime(document.occurred_at)
    assert happened.strftime("%H:%M") in text
    assert str(happened.year) in text
    if admin_name.startswith("sales"):
        assert moment(document.occurred_at) in text
        assert moment(document.created_at) in text
    assert "Occurred at" not in text  # the raw field is not shown as well


def test_a_live_sales_page_shows_posted_alone(client, head_office, documents):
    text = page(client, head_office, "sales_transaction", documents["live"])
    assert "Posted" in text
    assert "Happened" not in text
    assert "Occurred at" not in text
