"""The statements issued (billing.CustomerStatement) in the admin: read-only, newest first,
searched by customer code, filtered, each with its PDF (its number on it); a manager sees
their depots' customers' statements only."""

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from billing.services import statement_issue
from billing.tests.posting_clock import moment

pytestmark = pytest.mark.django_db
pytest_plugins = ["billing.tests.statement_fixtures"]
HOST = {"HTTP_HOST": "127.0.0.1"}
CHANGELIST = "admin:billing_customerstatement_changelist"


@pytest.fixture
def issued(ledger, head_office):
    ledger.sale(moment(3))
    today = timezone.localdate()
    return statement_issue(
        customer=ledger.customer,
        date_from=today - timedelta(days=10),
        date_to=today,
        actor=head_office,
    )


@pytest.fixture
def elsewhere(south, head_office, customer_factory):
    customer = customer_factory("CREDIT", depot=south, email="south@example.lk")
    today = timezone.localdate()
    return statement_issue(customer=customer, date_from=today, date_to=today, actor=head_office)


def test_head_office_lists_every_statement_with_its_pdf(client, head_office, issued, elsewhere):
    client.force_login(head_office)
    page = client.get(reverse(CHANGELIST), **HOST).content.decode()
    for statement in (issued, elsewhere):
        assert statement.number in page
        assert reverse("billing:issued_statement_pdf", args=[statement.pk]) in page
    assert "accounts@harbour.example" in page
    assert "3,000.00" in page  # the closing balance
    found = client.get(reverse(CHANGELIST), {"q": "S001"}, **HOST).content.decode()
    assert issued.number in found
    assert elsewhere.number not in found
    paper = client.get(reverse(CHANGELIST), {"emailed": "no"}, **HOST).content.decode()
    assert issued.number not in paper


def test_the_pdf_of_an_issued_statement_carries_its_number(client, head_office, issued):
    client.force_login(head_office)
    response = client.get(reverse("billing:issued_statement_pdf", args=[issued.pk]), **HOST)
    assert response.status_code == 200
    assert f'filename="{issued.number}.pdf"' in response["Content-Disposition"]
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert issued.number in text
    assert "Harbour Hotel (S001)" in text


def test_a_manager_sees_their_depots_statements_only(client, manager, issued, elsewhere):
    client.force_login(manager)
    page = client.get(reverse(CHANGELIST), **HOST).content.decode()
    assert issued.number in page
    assert elsewhere.number not in page
    pdf = "billing:issued_statement_pdf"
    assert client.get(reverse(pdf, args=[issued.pk]), **HOST).status_code == 200
    assert client.get(reverse(pdf, args=[elsewhere.pk]), **HOST).status_code == 404
    change = "admin:billing_customerstatement_change"
    assert client.get(reverse(change, args=[elsewhere.pk]), **HOST).status_code == 302  # gone
    assert client.get(reverse(pdf, args=[999999]), **HOST).status_code == 404


def test_nothing_is_added_changed_or_deleted_here(client, head_office, issued):
    client.force_login(head_office)
    change = reverse("admin:billing_customerstatement_change", args=[issued.pk])
    page = client.get(change, **HOST)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.get(reverse("admin:billing_customerstatement_add"), **HOST).status_code == 403
    delete = reverse("admin:billing_customerstatement_delete", args=[issued.pk])
    assert client.post(delete, {"post": "yes"}, **HOST).status_code == 403
