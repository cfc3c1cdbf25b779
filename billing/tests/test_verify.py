"""The public check of a printed document: /verify/<number>/<code>/ confirms a genuine,
unaltered document (number, date, total, nothing personal) and gives one "not genuine"
page for anything else."""

from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.test import override_settings

from billing.services import verify_code
from billing.services.verify import document_code, verify_url
from core.models import AuditLog
from sales.models import Transaction

# Every test reads rows; the marker keeps them with the database tests when another module
# runs a transactional test (which empties the tables) first.
pytestmark = pytest.mark.django_db

pytest_plugins = ["billing.tests.render_fixtures"]


def path_of(document) -> str:
    parts = urlsplit(verify_url(document, document_code(document)))
    return f"{parts.path}?{parts.query}"


def test_the_code_is_keyed_and_short():
    code = verify_code(number="TX-2026-000001", total=Decimal("10.5"), entry_hash="ab" * 32)
    assert len(code) == 10
    assert code.isupper()
    assert code == verify_code(
        number="TX-2026-000001", total=Decimal("10.50"), entry_hash="ab" * 32
    )
    assert code != verify_code(
        number="TX-2026-000001", total=Decimal("10.51"), entry_hash="ab" * 32
    )
    with override_settings(AUDIT_HMAC_KEY="another-key-entirely-for-this-test-0123456789"):
        assert code != verify_code(
            number="TX-2026-000001", total=Decimal("10.50"), entry_hash="ab" * 32
        )


def test_the_code_is_that_of_the_documents_audit_entry(credit_sale):
    entry = AuditLog.objects.get(action="sale_post", object_id=str(credit_sale.pk))
    assert document_code(credit_sale) == verify_code(
        number=credit_sale.number, total=credit_sale.total_amount, entry_hash=entry.hash
    )


@pytest.mark.parametrize("kind", ["credit_sale", "payment", "credit_note"])
def test_a_genuine_document_is_confirmed_without_anything_personal(client, kind, request):
    document = request.getfixturevalue(kind)
    response = client.get(path_of(document))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Genuine document" in page
    assert document.number in page
    customer = document.transaction.customer if kind == "credit_note" else document.customer
    assert customer.name not in page
    assert customer.code not in page
    assert "12 Harbour Road" not in page


def test_the_page_shows_the_total_and_date(client, credit_sale):
    page = client.get(path_of(credit_sale)).content.decode()
    assert "15,723.50" in page
    assert "Tax invoice" in page


def test_the_code_is_read_whatever_its_case(client, credit_sale):
    code = document_code(credit_sale).lower()
    assert client.get(f"/verify/{credit_sale.number}/{code}/").status_code == 200


def _refused(response) -> str:
    assert response.status_code == 404
    page = response.content.decode()
    assert "Not a genuine document" in page
    return page


def test_an_altered_total_is_not_genuine(client, credit_sale):
    path = path_of(credit_sale)
    Transaction.objects.filter(pk=credit_sale.pk).update(total_amount=Decimal("1.00"))
    _refused(client.get(path))


def test_a_total_that_is_not_the_documents_is_not_genuine(client, credit_sale):
    code = document_code(credit_sale)
    _refused(client.get(f"/verify/{credit_sale.number}/{code}/?total=1.00"))


def test_a_wrong_code_and_an_unknown_number_get_the_same_page(client, credit_sale):
    wrong = _refused(client.get(f"/verify/{credit_sale.number}/AAAAAAAAAA/"))
    unknown = _refused(client.get(f"/verify/TX-2026-999999/{document_code(credit_sale)}/"))
    other = _refused(client.get("/verify/XX-1/AAAAAAAAAA/"))
    assert wrong == unknown == other
    assert credit_sale.number not in wrong


@override_settings(VERIFY_RATE_PER_MINUTE=2)
def test_checks_are_rate_limited(client, credit_sale):
    path = path_of(credit_sale)
    assert client.get(path).status_code == 200
    assert client.get("/verify/TX-2026-999999/AAAAAAAAAA/").status_code == 404
    response = client.get(path)
    assert response.status_code == 429
    assert "Too many checks" in response.content.decode()


def test_the_check_is_cheap(client, credit_sale, django_assert_max_num_queries):
    path = path_of(credit_sale)
    with django_assert_max_num_queries(3):
        assert client.get(path).status_code == 200
