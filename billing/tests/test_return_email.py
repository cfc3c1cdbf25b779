"""A cylinder return's receipt (RET-) goes to the customer by e-mail like their invoices:
cylinder_return writes its message (kind RETURN) in its own transaction when the customer
takes documents by e-mail, outbox_send sends it once with the receipt's PDF, and the
return's admin page shows where it got to, with head office's "Resend by e-mail"."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from billing.services import outbox_send
from core.models import AuditLog, OutboxKind, OutboxMessage, OutboxStatus
from sales.models import CylinderReturn
from sales.services import cylinder_return, deposit_set, sale_post

pytestmark = pytest.mark.django_db

HOST = {"HTTP_HOST": "127.0.0.1"}


@pytest.fixture
def cyl(products):
    return products["12.7KG"]


@pytest.fixture
def holder(customer_factory, loaded_vehicle, cyl, head_office):
    """make(**fields): a credit customer holding 3 12.7KG cylinders at a 45.00 deposit."""

    def make(**fields):
        deposit_set(product=cyl, amount="45", actor=head_office)
        customer = customer_factory("CREDIT", credit_limit=Decimal("100000.00"), **fields)
        sale_post(
            customer=customer,
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[{"product": cyl, "quantity": 3, "empties_returned": 0}],
        )
        return customer

    return make


def give_back(customer, rep, cyl, quantity=2):
    return cylinder_return(
        customer=customer,
        sales_rep=rep,
        actor=rep,
        lines=[{"product": cyl, "quantity": quantity}],
    )


def _return_messages():
    return list(OutboxMessage.objects.filter(kind=OutboxKind.RETURN).order_by("pk"))


def test_a_return_for_an_e_mail_customer_writes_one_waiting_message(holder, loaded_vehicle, cyl):
    customer = holder(email="stores@buyer.example")
    returned = give_back(customer, loaded_vehicle, cyl)
    [message] = _return_messages()
    assert (message.document_type, message.document_id, message.number, message.to) == (
        "sales.CylinderReturn",
        returned.pk,
        returned.number,
        "stores@buyer.example",
    )
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 0)
    assert message.created_at == returned.created_at  # the posting's own moment
    assert message.get_kind_display() == "Cylinder return receipt"


def test_the_message_is_written_in_the_return_s_transaction(
    holder, loaded_vehicle, cyl, monkeypatch
):
    """A posting that fails after writing its message leaves neither the return nor the
    message: they commit together or not at all."""
    import sales.services.custody as custody

    customer = holder(email="stores@buyer.example")
    written = []

    def then_fail(**kwargs):
        real_document_email(**kwargs)
        written.append(OutboxMessage.objects.filter(kind=OutboxKind.RETURN).count())
        raise RuntimeError("the database went away")

    real_document_email = custody.document_email
    monkeypatch.setattr(custody, "document_email", then_fail)
    with pytest.raises(RuntimeError):
        give_back(customer, loaded_vehicle, cyl)
    assert written == [1]  # it was written, inside the posting...
    assert not CylinderReturn.objects.exists()  # ...and rolled back with it
    assert _return_messages() == []


@pytest.mark.parametrize(
    "fields", [{"email": ""}, {"email": "stores@buyer.example", "email_invoices": False}]
)
def test_no_message_for_a_customer_without_an_address_or_on_paper(
    holder, loaded_vehicle, cyl, fields
):
    give_back(holder(**fields), loaded_vehicle, cyl)
    assert CylinderReturn.objects.count() == 1
    assert _return_messages() == []


def test_a_refused_return_writes_no_message(holder, loaded_vehicle, cyl):
    customer = holder(email="stores@buyer.example")
    with pytest.raises(ValidationError) as refused:
        give_back(customer, loaded_vehicle, cyl, quantity=4)  # holds 3
    assert "lines[0].quantity" in refused.value.error_dict
    assert not CylinderReturn.objects.exists()
    assert _return_messages() == []


def test_outbox_send_sends_the_receipt_once_with_its_pdf(holder, loaded_vehicle, cyl, recording):
    customer = holder(email="stores@buyer.example")
    returned = give_back(customer, loaded_vehicle, cyl)
    assert outbox_send() == 2  # the sale's invoice, then the return's receipt
    [email] = [e for e in recording if returned.number in e.subject]
    assert email.to == ["stores@buyer.example"]
    assert email.subject.startswith(
        f"Cylinder return {returned.number}: 2 x 12.7KG, deposit refunded 90.00 ("
    )
    assert "\n" not in email.subject
    assert f"Dear {customer.name}," in email.body
    assert "2 x " + cyl.name in email.body
    assert "90.00, is credited to your account" in email.body
    [(filename, content, mimetype)] = email.attachments
    assert (filename, mimetype) == (f"{returned.number}.pdf", "application/pdf")
    assert content.startswith(b"%PDF")
    [message] = _return_messages()
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.SENT, 1, "")

    sent = len(recording)
    assert outbox_send() == 0  # sent is sent: never again
    assert len(recording) == sent


def test_a_cash_customer_is_told_the_refund_was_paid_in_cash(
    customer_factory, loaded_vehicle, cyl, head_office, recording
):
    deposit_set(product=cyl, amount="45", actor=head_office)
    customer = customer_factory("CASH", email="shop@buyer.example")
    line = {"product": cyl, "quantity": 1, "empties_returned": 0}
    sale_post(customer=customer, sales_rep=loaded_vehicle, actor=loaded_vehicle, lines=[line])
    returned = give_back(customer, loaded_vehicle, cyl, quantity=1)
    outbox_send()
    [email] = [e for e in recording if returned.number in e.subject]
    assert "deposit refunded 45.00" in email.subject
    assert "45.00, was paid to you in cash" in email.body


def _page(client, user, returned):
    client.force_login(user)
    url = reverse("admin:sales_cylinderreturn_change", args=[returned.pk])
    response = client.get(url, **HOST)
    assert response.status_code == 200
    return response.content.decode()


def _resend(client, user, returned):
    client.force_login(user)
    url = reverse("billing:cylinder_return_resend", args=[returned.pk])
    return client.post(url, follow=True, **HOST)


def test_the_return_page_shows_its_e_mail_and_head_office_resends_it(
    client, holder, loaded_vehicle, cyl, head_office, manager, recording
):
    returned = give_back(holder(email="stores@buyer.example"), loaded_vehicle, cyl)
    text = _page(client, head_office, returned)
    assert "Waiting to be sent to stores@buyer.example" in text
    assert "Resend by e-mail" in text
    assert "Resend by e-mail" not in _page(client, manager, returned)

    response = _resend(client, head_office, returned)  # on its way: nothing to resend
    assert "needs no resend" in response.content.decode()
    assert len(_return_messages()) == 1

    outbox_send()
    sent_at = timezone.localtime(_return_messages()[0].sent_at)
    assert f"Sent {sent_at:%-d %b %Y %H:%M} to stores@buyer.example" in (
        _page(client, head_office, returned)
    )
    response = _resend(client, head_office, returned)
    assert f"{returned.number} will be e-mailed to stores@buyer.example now." in (
        response.content.decode()
    )
    first, again = _return_messages()
    assert (again.resend_of, again.kind, again.status) == (first, "RETURN", "PENDING")
    assert AuditLog.objects.filter(action="outbox_resend", actor=head_office).count() == 1
    assert "Waiting to be sent to stores@buyer.example (resent)" in (
        _page(client, head_office, returned)
    )

    response = _resend(client, manager, returned)
    assert "E-mails are resent by head office." in response.content.decode()
    assert len(_return_messages()) == 2


def test_a_return_never_e_mailed_says_why_and_its_resend_is_refused(
    client, holder, loaded_vehicle, cyl, head_office
):
    customer = holder(email="")
    returned = give_back(customer, loaded_vehicle, cyl)
    text = _page(client, head_office, returned)
    assert f"Not e-mailed: {customer.code} {customer.name} had no e-mail address" in text
    response = _resend(client, head_office, returned)
    assert f"{returned.number} has never been e-mailed" in response.content.decode()
    assert _return_messages() == []


def test_resend_is_post_only_and_an_unknown_return_is_404(client, head_office):
    client.force_login(head_office)
    url = reverse("billing:cylinder_return_resend", args=[999999])
    assert client.post(url, **HOST).status_code == 404
    assert client.get(url, **HOST).status_code == 405
