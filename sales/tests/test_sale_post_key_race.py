"""sale_post when two requests with one Idempotency-Key race: the loser's insert breaks the
key's unique constraint, and it answers with the winner's sale (or, the same key for
another sale, a refusal). And a meter sale with no metered product on sale."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

import sales.services.sales as sale_service
from sales.models import Transaction
from sales.services import sale_post
from stock.models import Product, ProductKind
from stock.selectors import stock_on_hand

pytestmark = pytest.mark.django_db


@pytest.fixture
def key_unseen_before_insert(monkeypatch):
    """From when it is called: both reads of the key before the insert miss it (the other
    request had not committed yet); the read after the insert failed sees it."""
    real = sale_service._keyed

    def arm():
        calls = iter(range(1_000))

        def keyed(actor, key):
            return None if next(calls) < 2 else real(actor, key)

        monkeypatch.setattr(sale_service, "_keyed", keyed)

    return arm


def _sale(customer, rep, products, key, quantity=1):
    return {
        "customer": customer,
        "sales_rep": rep,
        "actor": rep,
        "lines": [{"product": products["12.7KG"], "quantity": quantity}],
        "idempotency_key": key,
    }


def test_the_loser_of_a_key_race_returns_the_winners_sale(
    cash_customer, loaded_vehicle, products, key_unseen_before_insert
):
    first = sale_post(**_sale(cash_customer, loaded_vehicle, products, "hh-1"))
    key_unseen_before_insert()

    again = sale_post(**_sale(cash_customer, loaded_vehicle, products, "hh-1"))

    assert again.pk == first.pk
    assert again.idempotent_replay
    assert Transaction.objects.count() == 1
    assert stock_on_hand(product=products["12.7KG"], sales_rep=loaded_vehicle) == 19


def test_the_loser_with_another_sale_is_refused(
    cash_customer, loaded_vehicle, products, key_unseen_before_insert
):
    sale_post(**_sale(cash_customer, loaded_vehicle, products, "hh-2"))
    key_unseen_before_insert()

    with pytest.raises(ValidationError) as refused:
        sale_post(**_sale(cash_customer, loaded_vehicle, products, "hh-2", quantity=2))

    assert [e.code for e in refused.value.error_dict["idempotency_key"]] == [
        "idempotency_key_reused"
    ]
    assert Transaction.objects.count() == 1


def test_an_insert_that_fails_for_another_reason_is_not_hidden(
    cash_customer, loaded_vehicle, products, monkeypatch
):
    def broken(**kwargs):
        raise IntegrityError("some other constraint")

    monkeypatch.setattr(sale_service, "_post", broken)

    with pytest.raises(IntegrityError, match="some other constraint"):
        sale_post(**_sale(cash_customer, loaded_vehicle, products, "hh-3"))


def test_a_meter_sale_needs_a_metered_product_on_sale(cash_customer, sales_rep):
    Product.objects.filter(kind=ProductKind.METERED).update(is_active=False)

    with pytest.raises(ValidationError) as refused:
        sale_post(
            customer=cash_customer, sales_rep=sales_rep, actor=sales_rep, meter_reading="10.00"
        )

    assert [e.code for e in refused.value.error_dict["meter_reading"]] == ["no_metered_product"]
    cash_customer.refresh_from_db()
    assert cash_customer.last_meter_reading == Decimal("0")
