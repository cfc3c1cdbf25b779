"""Issue 18: the history page of a record that is posted once (no versions) says so in
words and points to the audit log, not "This object doesn't have a change history"."""

from decimal import Decimal

import pytest
from django.urls import reverse

from sales import services

pytestmark = pytest.mark.django_db


def test_a_posted_record_history_says_it_is_never_edited(client, head_office, products):
    deposit = services.deposit_set(
        product=products["9KG"], amount=Decimal("1500.00"), effective_from=None, actor=head_office
    )
    client.force_login(head_office)
    response = client.get(reverse("admin:sales_depositrate_history", args=[deposit.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "have a change history" not in page
    assert "is written once, when it is posted, and never edited" in page
    audit = reverse("admin:core_auditlog_changelist")
    assert f"{audit}?object_type__exact=sales.depositrate&amp;q={deposit.pk}" in page


def test_versioned_records_keep_their_history_page(client, head_office, customer_factory):
    customer = customer_factory()
    client.force_login(head_office)
    page = client.get(reverse("admin:sales_customer_history", args=[customer.pk])).content
    assert "Every version of" in page.decode()
    assert "never edited" not in page.decode()
