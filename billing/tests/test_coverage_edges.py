"""Edges of the compiled-query helper, the first e-mail of a never-e-mailed credit note or
receipt, and the outbox's insert without RETURNING."""

from decimal import Decimal

import pytest

from billing.services.compiled import _hashable, _sentinels
from billing.services.resend import document_resend
from core.models import OutboxMessage
from sales.models import Customer
from sales.services import payment_record, payment_reverse, sale_post, sale_void


def test_a_compiled_query_refuses_a_parameter_type_it_cannot_stand_in_for():
    with pytest.raises(TypeError, match="int, datetime or str, not <class 'float'>"):
        _sentinels({"ratio": float})


def test_unhashable_parameters_are_left_as_they_are():
    assert _hashable(("a", 1))
    assert not _hashable(["a", 1])


def test_a_never_e_mailed_credit_note_receipt_and_reversal_go_with_their_own_kind(
    head_office, customer_factory, loaded_vehicle, products
):
    customer = customer_factory("CREDIT", credit_limit=Decimal("100000"))
    sold = sale_post(
        customer=customer,
        sales_rep=loaded_vehicle,
        actor=head_office,
        lines=[{"product": products["9KG"], "quantity": 1}],
    )
    note = sale_void(transaction=sold, actor=head_office, reason="wrong customer").credit_note
    paid = payment_record(customer=customer, amount="100", actor=head_office)
    Customer.objects.filter(pk=customer.pk).update(email="later@buyer.example")
    note.transaction.customer.refresh_from_db()
    paid.customer.refresh_from_db()
    assert document_resend(document=note, actor=head_office).kind == "CREDIT_NOTE"
    assert document_resend(document=paid, actor=head_office).kind == "RECEIPT"
    reversed_ = payment_reverse(payment=paid, actor=head_office, reason="bounced")
    reversed_.customer.refresh_from_db()
    kinds = set(OutboxMessage.objects.values_list("kind", flat=True))
    assert {"CREDIT_NOTE", "RECEIPT"} <= kinds


def test_the_outbox_row_is_saved_plainly_where_the_database_cannot_return_its_id(sale, monkeypatch):
    from django.db import connection

    from core.services import outbox_enqueue

    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL always returns the id; the fallback is for other backends")
    monkeypatch.setattr(connection.features, "can_return_columns_from_insert", False)
    message = outbox_enqueue(
        kind="INVOICE", document=sale, number=sale.number, to="plain@buyer.example"
    )
    assert message is not None
    assert message.pk is not None
    assert OutboxMessage.objects.get(pk=message.pk).to == "plain@buyer.example"
