"""Sales posted through the API before keys were kept per user stored their key as
"api:<user id>:<key>"; the rows are not rewritten, so sale_post matches that form too."""

import pytest
from django.core.exceptions import ValidationError

from core.idempotency import REUSED
from sales.models import Transaction
from sales.services import sale_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def legacy_sale(credit_customer, sales_rep, loaded_vehicle, products):
    sale = sale_post(
        customer=credit_customer,
        sales_rep=sales_rep,
        actor=sales_rep,
        lines=[{"product": products["12.7KG"], "quantity": 1}],
    )
    # as stored before this release: no fingerprint, the key in the API's namespace
    Transaction.objects.filter(pk=sale.pk).update(
        idempotency_key=f"api:{sales_rep.pk}:hh-7-000001", request_fingerprint=""
    )
    return sale


def test_a_retry_of_a_legacy_keyed_sale_is_replayed_not_posted_twice(
    legacy_sale, credit_customer, sales_rep, products
):
    again = sale_post(
        customer=credit_customer,
        sales_rep=sales_rep,
        actor=sales_rep,
        lines=[{"product": products["12.7KG"], "quantity": 1}],
        idempotency_key="hh-7-000001",
    )
    assert again.pk == legacy_sale.pk
    assert again.idempotent_replay
    assert Transaction.objects.count() == 1


def test_a_legacy_key_with_another_customer_is_refused(
    legacy_sale, customer_factory, sales_rep, products
):
    with pytest.raises(ValidationError) as exc:
        sale_post(
            customer=customer_factory("CASH"),
            sales_rep=sales_rep,
            actor=sales_rep,
            lines=[{"product": products["12.7KG"], "quantity": 1}],
            idempotency_key="hh-7-000001",
        )
    assert [e.code for e in exc.value.error_dict["idempotency_key"]] == [REUSED]
    assert Transaction.objects.count() == 1


def test_another_users_legacy_key_is_not_theirs(
    legacy_sale, credit_customer, user_factory, north, head_office, products
):
    from stock.services import distribution_create

    other = user_factory("SALES", depots=[north])
    distribution_create(
        sales_rep=other,
        depot=north,
        product=products["12.7KG"],
        quantity=1,
        kind="COLLECTION",
        actor=head_office,
    )
    sale = sale_post(
        customer=credit_customer,
        sales_rep=other,
        actor=other,
        lines=[{"product": products["12.7KG"], "quantity": 1}],
        idempotency_key="hh-7-000001",
    )
    assert sale.pk != legacy_sale.pk
    assert Transaction.objects.count() == 2
