"""The sync refusals screen: the list (open ones by default, managers their depots'),
the page with the document as sent, "Correct and repost" as the representative and
"Dismiss" with a reason, each audited."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditLog
from sales.models import SyncRefusal, Transaction
from sales.tests.test_sync_api import customer_make

pytestmark = pytest.mark.django_db


def sync(user, documents):
    client = APIClient()
    client.force_authenticate(user)
    return client.post("/api/sync/", {"documents": documents}, format="json").data["results"]


def preview_and_confirm(client, url, data):
    preview = client.post(url, {**data, "_preview": "1"})
    assert preview.context["stage"] == "confirm", preview.context["form"].errors
    response = client.post(url, {**data, "_confirm": "1", "_token": preview.context["token"]})
    return preview, response


@pytest.fixture
def refused(sales_rep, north, head_office, products, loaded_vehicle):
    """A sale of 30 cylinders from a vehicle holding 20: refused, kept for a manager."""
    customer = customer_make("C001", "CASH", north, head_office, products)
    doc = {
        "client_id": "hh-0001",
        "type": "sale",
        "occurred_at": (timezone.now() - timedelta(hours=2)).isoformat(),
        "customer": customer.code,
        "lines": [{"product": "12.7KG", "quantity": 30, "empties_returned": 30}],
    }
    (result,) = sync(sales_rep, [doc])
    assert result["status"] == "refused"
    return SyncRefusal.objects.get(client_id="hh-0001"), doc


@pytest.fixture
def south_refusal(south, user_factory):
    rep = user_factory("SALES", depots=[south], username="southrep")
    sync(rep, [{"client_id": "south-1", "type": "payment", "customer": "NOPE", "amount": "1"}])
    return SyncRefusal.objects.get(client_id="south-1")


@pytest.fixture
def as_manager(client, manager):
    client.force_login(manager)
    return client


def test_the_list_shows_open_refusals_in_words_and_managers_see_their_depots(
    as_manager, client, head_office, refused, south_refusal
):
    response = as_manager.get(reverse("admin:sales_syncrefusal_changelist"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "hh-0001" in page
    assert "Sale to C001 Customer 1: 30 x 12.7KG (30 empties back)" in page
    assert "Only 20 full 12.7KG cylinders" in page
    assert "Needs a decision" in page
    assert "northrep" in page
    assert "south-1" not in page  # another depot's

    client.force_login(head_office)
    everything = client.get(reverse("admin:sales_syncrefusal_changelist")).content.decode()
    assert "hh-0001" in everything
    assert "south-1" in everything
    assert "Payment of 1.00 (CASH) from NOPE" in everything


def test_the_list_filters_by_status_open_by_default(as_manager, refused, manager):
    from sales.services.sync import sync_refusal_dismiss

    refusal, _ = refused
    sync_refusal_dismiss(refusal=refusal, actor=manager, reason="duplicate of a paper sale")
    url = reverse("admin:sales_syncrefusal_changelist")
    assert "hh-0001" not in as_manager.get(url).content.decode()
    assert "hh-0001" in as_manager.get(url, {"status": "DISMISSED"}).content.decode()
    assert "hh-0001" in as_manager.get(url, {"status": "all"}).content.decode()
    assert "hh-0001" not in as_manager.get(url, {"status": "REPOSTED"}).content.decode()


def test_the_page_shows_the_document_as_sent_and_the_decisions(as_manager, refused):
    refusal, _ = refused
    response = as_manager.get(reverse("admin:sales_syncrefusal_change", args=[refusal.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<table class="sync-document">' in page
    assert "<th>Customer</th><td>C001</td>" in page
    assert "<td>12.7KG</td><td>30</td><td>30</td>" in page
    assert "lines[0].quantity" in page
    assert "Correct and repost" in page
    assert "Dismiss" in page
    assert '"client_id"' not in page  # a table, not raw JSON


def test_a_manager_cannot_open_another_depots_refusal(as_manager, south_refusal):
    for name in ("change", "repost", "dismiss"):
        response = as_manager.get(
            reverse(f"admin:sales_syncrefusal_{name}", args=[south_refusal.pk])
        )
        assert response.status_code in (302, 404)
        assert b"south-1" not in response.content


def test_correct_and_repost_posts_as_the_representative(as_manager, refused, manager, sales_rep):
    refusal, original = refused
    url = reverse("admin:sales_syncrefusal_repost", args=[refusal.pk])
    form = as_manager.get(url)
    assert form.status_code == 200
    assert form.context["form"]["lines"].value() == "12.7KG 30 30"
    assert form.context["form"]["customer"].value() == "C001"
    data = {
        "occurred_at": original["occurred_at"],
        "customer": "C001",
        "lines": "12.7KG 3 3",
        "meter_reading": "",
        "note": "the handheld doubled the quantity",
    }

    preview, response = preview_and_confirm(as_manager, url, data)

    assert any("as northrep" in line for line in preview.context["preview_lines"])
    assert response.status_code == 302
    refusal.refresh_from_db()
    assert refusal.status == "REPOSTED"
    assert refusal.resolved_by == manager
    assert refusal.resolution_note == "the handheld doubled the quantity"
    sale = Transaction.objects.get(number=refusal.reposted_number)
    assert sale.sales_rep == sales_rep
    assert sale.created_by == sales_rep
    assert sale.idempotency_key == "hh-0001"
    assert sale.lines.get().quantity == 3
    entry = AuditLog.objects.get(action="sync_refusal_repost")
    assert entry.actor == manager
    assert entry.data["number"] == sale.number
    # the handheld sends the original again: it learns the number the manager posted it
    # under (replayed), and nothing opens again
    (again,) = sync(sales_rep, [original])
    assert (again["status"], again["number"]) == ("replayed", sale.number)
    assert SyncRefusal.objects.filter(status="OPEN").count() == 0
    assert Transaction.objects.count() == 1


def test_a_repost_still_refused_shows_why_and_stays_open(as_manager, refused):
    refusal, original = refused
    url = reverse("admin:sales_syncrefusal_repost", args=[refusal.pk])
    data = {"occurred_at": original["occurred_at"], "customer": "C001", "lines": "12.7KG 25 25"}
    response = as_manager.post(url, {**data, "_preview": "1"})
    assert response.context["stage"] == "entry"
    assert "Only 20 full 12.7KG cylinders" in response.content.decode()
    bad = as_manager.post(url, {**data, "lines": "12.7KG two", "_preview": "1"})
    assert "Row 1: write the product code" in bad.content.decode()
    refusal.refresh_from_db()
    assert refusal.status == "OPEN"
    assert Transaction.objects.count() == 0


def test_dismiss_needs_a_reason_and_is_audited(as_manager, refused, manager, sales_rep):
    refusal, original = refused
    url = reverse("admin:sales_syncrefusal_dismiss", args=[refusal.pk])
    empty = as_manager.post(url, {"reason": "  ", "_preview": "1"})
    assert empty.context["stage"] == "entry"

    preview, response = preview_and_confirm(as_manager, url, {"reason": "sold on paper"})

    assert "nothing is posted" in " ".join(preview.context["preview_lines"])
    assert response.status_code == 302
    refusal.refresh_from_db()
    assert (refusal.status, refusal.resolved_by, refusal.resolution_note) == (
        "DISMISSED",
        manager,
        "sold on paper",
    )
    assert AuditLog.objects.get(action="sync_refusal_dismiss").data["reason"] == "sold on paper"
    # sent again as it was and refused again: the manager's decision stands
    (again,) = sync(sales_rep, [original])
    assert again["status"] == "refused"
    assert SyncRefusal.objects.count() == 1
    # settled refusals offer no decision any more
    page = as_manager.get(reverse("admin:sales_syncrefusal_change", args=[refusal.pk]))
    assert "Correct and repost" not in page.content.decode()


@pytest.mark.parametrize(
    ("doc_type", "document", "words"),
    [
        (
            "sale",
            {"customer": "C9", "meter_reading": "1234.50"},
            "Sale to C9 Gas Hotel: no lines; meter reading 1234.50",
        ),
        (
            "payment",
            {"customer": "C9", "amount": "1500000", "method": "CHEQUE"},
            "Payment of 1,500,000.00 (CHEQUE) from C9 Gas Hotel",
        ),
        ("payment", {"amount": "lots"}, "Payment of lots (CASH) from ?"),
        (
            "distribution",
            {"kind": "EMPTY_RETURN", "product": "9KG", "quantity": 4},
            "Empty return: 4 x 9KG",
        ),
        (
            "return",
            {"customer": "C9", "lines": [{"product": "9KG", "quantity": 1}, "junk"]},
            "Cylinder return from C9 Gas Hotel: 1 x 9KG",
        ),
    ],
)
def test_each_document_type_reads_in_words(doc_type, document, words):
    from sales.admin.sync_refusal_forms import document_words

    refusal = SyncRefusal(doc_type=doc_type, document=document)
    name = "Gas Hotel" if "customer" in document else None
    assert document_words(refusal, name) == words


def test_a_one_line_load_sheet_is_corrected_and_posted_as_it_was_sent(
    as_manager, sales_rep, north, head_office, products
):
    """Sent as product and quantity (no lines) and refused for want of stock at the
    depot; corrected to fewer, it posts the same one-line way."""
    from stock.services import stock_receive

    stock_receive(depot=north, product=products["9KG"], quantity=3, actor=head_office)
    doc = {"client_id": "dst-1", "type": "distribution", "kind": "COLLECTION"}
    doc |= {"product": "9KG", "quantity": 5}
    (result,) = sync(sales_rep, [doc])
    assert result["error"]["code"] == "insufficient_stock"
    refusal = SyncRefusal.objects.get()
    url = reverse("admin:sales_syncrefusal_repost", args=[refusal.pk])
    assert as_manager.get(url).context["form"]["lines"].value() == "9KG 5"

    preview_and_confirm(as_manager, url, {"kind": "COLLECTION", "lines": "9KG 3"})

    refusal.refresh_from_db()
    assert refusal.status == "REPOSTED"
    assert refusal.reposted_number.startswith("DST-")
    page = as_manager.get(reverse("admin:sales_syncrefusal_change", args=[refusal.pk]))
    assert f"Corrected and posted as {refusal.reposted_number} by northmanager" in (
        page.content.decode()
    )


def test_an_unknown_status_in_the_url_lists_nothing(as_manager, refused):
    url = reverse("admin:sales_syncrefusal_changelist")
    assert "hh-0001" not in as_manager.get(url, {"status": "BOGUS"}).content.decode()
