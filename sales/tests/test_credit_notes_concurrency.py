"""Invariant 6 for credit notes under real concurrency (PostgreSQL, threads, committed
data): sales voided at once from several threads get CN numbers that are unique and
gapless, one credit note each, for each sale's total; a sale voided by two threads at
once gets one credit note and one refusal."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.models import DocumentCounter
from sales.models import CreditNote, Transaction
from sales.services import sale_post, sale_void
from stock.selectors import ledger_differences

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_concurrent_voids_get_unique_gapless_credit_note_numbers(
    concurrently, customer_factory, loaded_vehicle, products, user_factory, north
):
    customers = [customer_factory() for _ in range(6)]
    sales = [
        sale_post(
            customer=customers[i % 6],
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[{"product": products["12.7KG"], "quantity": 1, "empties_returned": 0}],
        )
        for i in range(18)
    ]
    managers = [user_factory("MANAGER", depots=[north]) for _ in range(3)]

    def void(i, sale):
        return lambda: sale_void(transaction=sale, actor=managers[i % 3], reason=f"test {i}")

    outcomes = concurrently([void(i, sale) for i, sale in enumerate(sales)])
    assert all(isinstance(o, Transaction) for o in outcomes), outcomes
    notes = list(CreditNote.objects.select_related("transaction"))
    assert len(notes) == 18
    year = timezone.localtime(notes[0].created_at).year
    assert sorted(n.number for n in notes) == [f"CN-{year}-{i:06d}" for i in range(1, 19)]
    assert all(n.amount == n.transaction.total_amount for n in notes)
    assert DocumentCounter.objects.get(series="CN", year=year).last_value == 18
    assert list(ledger_differences()) == []


def test_one_sale_voided_twice_at_once_gets_one_credit_note(
    concurrently, cash_customer, loaded_vehicle, products, user_factory, north
):
    sale = sale_post(
        customer=cash_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["9KG"], "quantity": 1, "empties_returned": 0}],
    )
    managers = [user_factory("MANAGER", depots=[north]) for _ in range(4)]
    outcomes = concurrently(
        [(lambda m=m: sale_void(transaction=sale, actor=m, reason="twice")) for m in managers]
    )
    voided = [o for o in outcomes if isinstance(o, Transaction)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert (len(voided), len(refused)) == (1, 3), outcomes
    assert all(r.code == "already_void" for r in refused)
    assert CreditNote.objects.count() == 1
    assert CreditNote.objects.get().number.endswith("-000001")
