"""The postings write their documents' e-mails to the outbox, in their own transaction:
sale_post the tax invoice, sale_void the credit note, payment_record the receipt; only
for a customer with an address who takes documents by e-mail. Without a broker the
e-mail goes right after the commit."""

from decimal import Decimal

import pytest
from celery import current_app
from django.core import mail
from django.core.exceptions import ValidationError

from core.models import OutboxMessage, OutboxStatus
from sales.services import payment_record, payment_reverse, sale_post, sale_void

pytestmark = pytest.mark.django_db


def _sell(customer, rep, products, quantity=1):
    return sale_post(
        customer=customer,
        sales_rep=rep,
        actor=rep,
        lines=[{"product": products["12.7KG"], "quantity": quantity}],
    )


def test_a_sale_a_void_and_a_payment_each_write_their_message(
    customer_factory, loaded_vehicle, products, manager
):
    customer = customer_factory(
        "CREDIT", credit_limit=Decimal("50000.00"), email="buyer@example.lk"
    )
    sale = _sell(customer, loaded_vehicle, products)
    voided = sale_void(transaction=sale, actor=manager, reason="wrong customer")
    payment = payment_record(customer=customer, amount="100.00", actor=manager)
    messages = list(OutboxMessage.objects.order_by("pk"))
    assert [(m.kind, m.document_type, m.document_id, m.number, m.to) for m in messages] == [
        ("INVOICE", "sales.Transaction", sale.pk, sale.number, "buyer@example.lk"),
        (
            "CREDIT_NOTE",
            "sales.CreditNote",
            voided.credit_note.pk,
            voided.credit_note.number,
            "buyer@example.lk",
        ),
        ("RECEIPT", "sales.Payment", payment.pk, payment.number, "buyer@example.lk"),
    ]
    assert messages[0].created_at == sale.created_at
    assert {m.status for m in messages} == {OutboxStatus.PENDING}


@pytest.mark.parametrize(
    "fields", [{"email": ""}, {"email": "buyer@example.lk", "email_invoices": False}]
)
def test_no_message_without_an_address_or_for_paper(
    customer_factory, loaded_vehicle, products, fields
):
    _sell(customer_factory("CASH", **fields), loaded_vehicle, products)
    assert not OutboxMessage.objects.exists()


def test_a_sale_refused_writes_no_message(customer_factory, loaded_vehicle, products):
    customer = customer_factory("CASH", email="buyer@example.lk")
    with pytest.raises(ValidationError, match="20 full"):  # 21 asked, 20 on the vehicle
        _sell(customer, loaded_vehicle, products, quantity=21)
    assert not OutboxMessage.objects.exists()


def test_without_a_broker_the_invoice_is_emailed_right_after_the_commit(
    customer_factory, loaded_vehicle, products, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setitem(current_app.conf, "task_always_eager", True)
    customer = customer_factory("CASH", email="buyer@example.lk")
    with django_capture_on_commit_callbacks(execute=True):
        sale = _sell(customer, loaded_vehicle, products)
    [email] = mail.outbox
    assert email.to == ["buyer@example.lk"]
    assert sale.number in email.subject
    assert email.attachments[0][0] == f"{sale.number}.pdf"
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)


def test_a_reversed_payment_sends_its_reversal_notice(customer_factory, manager):
    customer = customer_factory(
        "CREDIT", credit_limit=Decimal("50000.00"), email="buyer@example.lk"
    )
    payment = payment_record(customer=customer, amount="100.00", actor=manager)
    reversed_payment = payment_reverse(payment=payment, actor=manager, reason="cheque bounced")
    notice = OutboxMessage.objects.order_by("pk").last()
    assert (notice.kind, notice.document_type, notice.document_id, notice.to) == (
        "REVERSAL",
        "sales.Payment",
        payment.pk,
        "buyer@example.lk",
    )
    assert notice.created_at == reversed_payment.reversed_at
