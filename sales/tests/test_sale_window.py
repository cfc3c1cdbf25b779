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


def _compiled_by_django(model, objs):
    """What Django's insert compiler itself gives for `objs` (the reference)."""
    from django.db.models.sql import InsertQuery

    with_pk = all(obj.pk is not None for obj in objs)
    fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
    query = InsertQuery(model)
    query.insert_values(fields, list(objs), raw=False)
    ((sql, params),) = query.get_compiler(connection=connection).as_sql()
    return sql, list(params)


@pytest.mark.parametrize("rows", [1, 2, 3])
def test_a_reused_insert_is_the_one_django_compiles(emailed, loaded_vehicle, products, rows):
    """insert_statement compiles a model's INSERT once per number of rows and then fills
    in the values itself: for every model a sale writes there, with one row or several
    (PostgreSQL's UNNEST of arrays), JSON and the number's stand-in, the statement and
    its values are what Django's compiler gives."""
    from core.history import historical_model
    from core.services import final_writes
    from core.services.final_writes import history_rows, insert_statement

    sale = _sale(emailed, loaded_vehicle, products)
    now = timezone.now()
    cases = {
        Transaction: [Transaction.objects.get(pk=sale.pk) for _ in range(rows)],
        historical_model(Transaction): history_rows(
            Transaction, [sale] * rows, user=loaded_vehicle, date=now
        ),
        StockMovement: list(StockMovement.objects.order_by("-pk")[:1]) * rows,
        HoldingEntry: list(HoldingEntry.objects.order_by("-pk")[:1]) * rows,
        OutboxMessage: list(OutboxMessage.objects.filter(number=sale.number)) * rows,
    }
    final_writes._COMPILED.clear()
    for model, objs in cases.items():
        assert len(objs) == rows, model
        for obj in objs:
            if hasattr(obj, "number"):
                obj.number = NUMBER
        expected = _compiled_by_django(model, objs)
        first = insert_statement(model, objs)  # compiled, and its layout learnt
        with_pk = objs[0].pk is not None  # history rows get theirs from the database
        assert final_writes._COMPILED[(model, with_pk, rows, connection.vendor)], model
        again = insert_statement(model, objs)  # reused
        assert first == expected, model
        assert again[0] == expected[0], model
        assert final_writes._same(again[1], expected[1]), (model, again[1], expected[1])
        if hasattr(objs[0], "number"):  # the stand-in is there for the number to replace
            flat = [x for v in again[1] for x in (v if isinstance(v, list) else [v])]
            assert NUMBER in flat


def test_a_reused_insert_takes_the_new_values(cash_customer, loaded_vehicle, products):
    """The second statement of the same shape carries its own values, not the first's."""
    from core.services import final_writes
    from core.services.final_writes import insert_statement

    sale = sale_post(
        customer=cash_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 1}],
    )
    final_writes._COMPILED.clear()
    one = Transaction.objects.get(pk=sale.pk)
    other = Transaction.objects.get(pk=sale.pk)
    other.total_amount = Decimal("1234.50")
    other.number = "TX-2026-999999"
    sql_one, values_one = insert_statement(Transaction, [one])
    sql_other, values_other = insert_statement(Transaction, [other])
    assert sql_one == sql_other
    assert Decimal("1234.50") in values_other
    assert "TX-2026-999999" in values_other
    assert values_other == _compiled_by_django(Transaction, [other])[1]
    assert values_one != values_other


@pytest.mark.postgres
def test_with_server_side_binding_the_rows_go_one_statement_at_a_time(
    emailed, loaded_vehicle, products, monkeypatch
):
    """Several statements in one execute need client-side binding: with server-side
    binding configured (OPTIONS server_side_binding) the same rows go one by one, and the
    sale is the same: numbered, in the chain, its e-mail waiting."""
    options = {**connection.settings_dict.get("OPTIONS", {}), "server_side_binding": True}
    monkeypatch.setitem(connection.settings_dict, "OPTIONS", options)
    with CaptureQueriesContext(connection) as queries:
        sale = _sale(emailed, loaded_vehicle, products)
    assert not [q["sql"] for q in queries.captured_queries if ";\n" in q["sql"]]
    sale.refresh_from_db()
    assert sale.number.startswith("TX-")
    assert OutboxMessage.objects.filter(number=sale.number).count() == 1
    assert AuditLog.objects.filter(data__number=sale.number).exists()
    assert audit_chain_check().problem is None
