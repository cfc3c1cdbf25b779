"""billing.services.invoice_read and billing.services.compiled: the invoice's sale read by
SQL compiled once gives what select_related and prefetch_related give, so every copy of
the invoice says the same; a compiled query runs with its parameters' new values."""

from datetime import datetime

import pytest
from django.db.models import Prefetch

from billing.services import documents
from billing.services.compiled import CompiledQuery
from billing.services.escpos import escpos_bytes
from billing.services.invoice_read import invoice_sale
from sales.models import Customer, Transaction, TransactionLine

pytest_plugins = ["billing.tests.render_fixtures"]
pytestmark = pytest.mark.django_db


def orm_sale(transaction):
    """The sale as the ORM reads it with its relations (what invoice_sale replaces)."""
    lines = Prefetch("lines", queryset=TransactionLine.objects.select_related("product"))
    return (
        Transaction.objects.select_related("customer", "sales_rep", "meter_sale__product")
        .prefetch_related(lines)
        .get(pk=transaction.pk)
    )


def fields(instance):
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


@pytest.mark.parametrize("kind", ["credit_sale", "cash_sale", "voided"])
def test_the_sale_is_read_as_the_orm_reads_it(kind, request, django_assert_num_queries):
    if kind == "voided":
        sale = request.getfixturevalue("credit_note").transaction
    else:
        sale = request.getfixturevalue(kind)
    expected = orm_sale(sale)
    with django_assert_num_queries(2):  # the sale with its relations, its lines
        read = invoice_sale(sale)
    with django_assert_num_queries(0):  # everything the invoice reads is loaded
        assert fields(read) == fields(expected)
        assert fields(read.customer) == fields(expected.customer)
        assert fields(read.sales_rep) == fields(expected.sales_rep)
        assert [(fields(x), fields(x.product)) for x in read.lines.all()] == [
            (fields(x), fields(x.product)) for x in expected.lines.all()
        ]
        meter = getattr(read, "meter_sale", None)
        expected_meter = getattr(expected, "meter_sale", None)
        assert (meter is None) == (expected_meter is None) == (kind != "credit_sale")
        if meter is not None:
            assert fields(meter) == fields(expected_meter)
            assert fields(meter.product) == fields(expected_meter.product)
            assert meter.transaction is read


def test_the_receipt_is_the_same_bytes_as_from_the_orm(credit_sale, monkeypatch):
    fast = escpos_bytes(documents.invoice_document(transaction=credit_sale), width_mm=58)
    monkeypatch.setattr(documents, "_sale", orm_sale)
    assert escpos_bytes(documents.invoice_document(transaction=credit_sale), width_mm=58) == fast


def test_a_sale_that_is_not_there_is_refused(cash_sale):
    missing = Transaction(pk=cash_sale.pk + 1000)
    with pytest.raises(Transaction.DoesNotExist):
        invoice_sale(missing)


def test_a_compiled_query_runs_with_each_new_value(customer_factory):
    first, second = customer_factory("CASH"), customer_factory("CREDIT")
    query = CompiledQuery(
        lambda customer, code: Customer.objects.filter(pk=customer, code=code).values_list(
            "code", "payment_type", "created_at"
        ),
        customer=int,
        code=str,
    )
    assert query.rows(customer=first.pk, code=first.code) == [
        (first.code, "CASH", first.created_at)
    ]
    assert query.rows(customer=second.pk, code=second.code)[0][:2] == (second.code, "CREDIT")
    assert isinstance(query.rows(customer=second.pk, code=second.code)[0][2], datetime)
    assert query.rows(customer=first.pk, code=second.code) == []
    with pytest.raises(TypeError, match="takes"):
        query.rows(customer=first.pk)


def test_a_parameter_inlined_in_the_sql_is_refused():
    query = CompiledQuery(lambda customer: Customer.objects.values_list("code"), customer=int)
    with pytest.raises(ValueError, match="customer"):
        query.rows(customer=1)
