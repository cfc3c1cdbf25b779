"""The shared window of a sale (core.services.final_writes): from taking the year's
counter to the commit, one more round trip writes everything that carries the number,
and the rows written there are exactly those the sale would write one by one."""

from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import AuditLog, OutboxMessage
from core.selectors import audit_chain_check
from core.services.final_writes import NUMBER, _numbered
from sales.models import HoldingEntry, Transaction
from sales.services import deposit_set, sale_post
from stock.models import StockMovement

pytestmark = pytest.mark.django_db


def _sale(customer, rep, products):
    return sale_post(
        customer=customer,
        sales_rep=rep,
        actor=rep,
        lines=[
            {"product": products["12.7KG"], "quantity": 2, "empties_returned": 1},
            {"product": products["9KG"], "quantity": 1, "empties_returned": 0},
        ],
    )


@pytest.fixture
def emailed(customer_factory, head_office, products):
    deposit_set(product=products["12.7KG"], amount=Decimal("5000"), actor=head_office)
    return customer_factory("CASH", email="hotel@example.com")


@pytest.mark.postgres
def test_one_round_trip_after_the_counter(emailed, loaded_vehicle, products):
    _sale(emailed, loaded_vehicle, products)  # the year's counter exists from here on
    with CaptureQueriesContext(connection) as queries:
        sale = _sale(emailed, loaded_vehicle, products)
    sqls = [q["sql"] for q in queries.captured_queries]
    taken = next(i for i, sql in enumerate(sqls) if "core_documentcounter" in sql)
    assert "core_auditchainhead" in sqls[taken], "the head is taken with the counter"
    # The write, then the commit (here, inside the test's transaction, the release of
    # the sale's savepoint).
    after = [sql for sql in sqls[taken + 1 :] if not sql.startswith("RELEASE SAVEPOINT")]
    assert len(after) == 1, after
    for table in (
        "sales_transaction",
        "sales_historicaltransaction",
        "stock_stockmovement",
        "sales_holdingentry",
        "core_outboxmessage",
        "core_auditlog",
    ):
        assert f'"{table}"' in after[0] or f" {table} " in after[0], table
    assert NUMBER not in after[0]
    assert sale.number in after[0]


def test_every_numbered_row_carries_the_number(emailed, loaded_vehicle, products):
    sale = _sale(emailed, loaded_vehicle, products)
    stored = Transaction.objects.get(pk=sale.pk)
    assert stored.number == sale.number != NUMBER
    assert stored.history.get().number == sale.number
    refs = set(
        StockMovement.objects.filter(doc_type="sales.transaction", doc_id=sale.pk).values_list(
            "reference", flat=True
        )
    )
    assert refs == {sale.number}
    entries = HoldingEntry.objects.filter(doc_type="sales.transaction", doc_id=sale.pk)
    assert entries.exists()
    assert set(entries.values_list("reference", flat=True)) == {sale.number}
    assert (
        OutboxMessage.objects.get(document_type="sales.Transaction", document_id=sale.pk).number
        == sale.number
    )
    entry = AuditLog.objects.get(action="sale_post", object_id=str(sale.pk))
    assert entry.data["number"] == sale.number
    assert audit_chain_check().problem is None


def test_numbers_follow_on_and_the_chain_holds(cash_customer, loaded_vehicle, products):
    numbers = [_sale(cash_customer, loaded_vehicle, products).number for _ in range(3)]
    tails = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert tails == [tails[0], tails[0] + 1, tails[0] + 2]
    assert audit_chain_check().problem is None


def test_the_placeholder_is_replaced_in_columns_and_arrays():
    assert _numbered(NUMBER, "TX-2026-000001") == "TX-2026-000001"
    assert _numbered([NUMBER, "x", None], "TX-1") == ["TX-1", "x", None]
    assert _numbered("TX-2026-000009", "TX-1") == "TX-2026-000009"
    assert _numbered(7, "TX-1") == 7


def test_a_stand_in_left_inside_a_text_or_nested_data_is_refused(cash_customer, head_office):
    from django.db import transaction

    from core.services.final_writes import AuditSpec, FinalWrites, _no_stand_in_left

    with pytest.raises(RuntimeError, match="stand-in"):
        _no_stand_in_left(["x", [None, f"Sale {NUMBER}"]])
    _no_stand_in_left(["x", ["TX-1"], 3, None])  # nothing left: passes
    audit = AuditSpec(
        actor=head_office,
        action="test",
        obj=cash_customer,
        depot=None,
        data={"nested": {"number": NUMBER}},
    )
    before = AuditLog.objects.count()
    with pytest.raises(RuntimeError, match="stand-in"), transaction.atomic():
        FinalWrites(series="ZZ", at=timezone.now()).write(audit, number_set=lambda n: None)
    assert AuditLog.objects.count() == before


def test_the_last_round_trip_refuses_to_run_outside_a_transaction(cash_customer, head_office):
    from core.services.final_writes import AuditSpec, FinalWrites

    audit = AuditSpec(actor=head_office, action="test", obj=cash_customer, depot=None, data={})
    final = FinalWrites(series="ZZ", at=timezone.now())
    # pytest-django's test transaction is atomic: leave it for this one call
    outside = mock.patch.object(connection, "in_atomic_block", False)
    with pytest.raises(RuntimeError, match="inside the posting transaction"), outside:
        final.write(audit, number_set=lambda n: None)


@pytest.mark.postgres
def test_a_credit_sale_with_nothing_on_account_settles_nothing_in_the_window(
    customer_factory, loaded_vehicle, products
):
    customer = customer_factory("CREDIT")
    _sale(customer, loaded_vehicle, products)
    with CaptureQueriesContext(connection) as queries:
        sale = _sale(customer, loaded_vehicle, products)
    sqls = [q["sql"] for q in queries.captured_queries]
    taken = next(i for i, sql in enumerate(sqls) if "core_documentcounter" in sql)
    after = [sql for sql in sqls[taken + 1 :] if not sql.startswith("RELEASE SAVEPOINT")]
    assert len(after) == 1, after
    assert (sale.is_paid, sale.amount_paid) == (False, 0)


def test_a_credit_sale_is_settled_by_money_paid_in_advance(
    customer_factory, loaded_vehicle, products, head_office
):
    from sales.services import payment_record

    customer = customer_factory("CREDIT")
    _sale(customer, loaded_vehicle, products)  # 8,200.00 owed
    payment_record(customer=customer, amount="20000", actor=head_office, method="CASH")
    sale = _sale(customer, loaded_vehicle, products)  # the advance settles it at once
    assert sale.is_paid
    assert sale.amount_paid == sale.total_amount
