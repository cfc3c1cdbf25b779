"""The pages of posted documents: a sale's (lines, meter, tax, money, the payments that
settled it, its credit note, its invoice's delivery with Download / Thermal / Resend /
Void), a payment's and a credit note's; the sales list's Invoice column and filter; the
Resend button (head office only, POST only, clear when there is nothing to resend)."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import AuditLog, OutboxMessage, OutboxStatus
from sales.models import Customer
from sales.services import payment_record, sale_post, sale_void

pytestmark = pytest.mark.django_db

HOST = {"HTTP_HOST": "127.0.0.1"}


@pytest.fixture
def customer(customer_factory):
    return customer_factory(
        "CREDIT",
        credit_limit=Decimal("100000.00"),
        email="accounts@buyer.example",
        last_meter_reading=Decimal("100.00"),
    )


@pytest.fixture
def sale(customer, loaded_vehicle, products, head_office):
    from sales.services.tax import tax_rate_set

    tax_rate_set(rate=Decimal("18"), actor=head_office)
    return sale_post(
        customer=customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 2, "empties_returned": 1}],
        meter_reading=Decimal("120.50"),
    )


def page(client, user, url):
    client.force_login(user)
    response = client.get(url, **HOST)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def sale_url(sale):
    return reverse("admin:sales_transaction_change", args=[sale.pk])


def test_the_sale_page_shows_lines_meter_tax_and_money_readably(client, head_office, sale):
    # 2 x 3000.00 + 20.50 x 250.00 = 11,125.00 net; 18 % = 2,002.50; 13,127.50
    text = page(client, head_office, sale_url(sale))
    for shown in (
        'Invoice status: <span id="invoice-status-words">E-mail waiting; unpaid</span>',
        "12.7KG",
        "6,000.00",
        "Bulk LPG (metered tank) (BULK) by meter: 100.00 → 120.50",
        "5,125.00",
        "GST at 18.00 %",
        "2,002.50",
        "13,127.50",
        "Unpaid: 13,127.50 due.",
        "Waiting to be sent to accounts@buyer.example",
        "Not printed yet.",
        "No payment has settled it.",
        "Download invoice (PDF)",
        "Print thermal copy (80 mm PDF)",
        "Resend by e-mail",
    ):
        assert shown in text, shown
    assert "CN-" not in text


def test_the_sale_page_lists_the_payments_that_settled_it_with_links(
    client, head_office, sale, customer
):
    payment = payment_record(
        customer=customer, amount="5000.00", actor=head_office, reference="CHQ 1"
    )
    text = page(client, head_office, sale_url(sale))
    assert reverse("admin:sales_payment_change", args=[payment.pk]) in text
    assert payment.number in text
    assert "5,000.00" in text
    assert "Part paid: 5,000.00 of 13,127.50; 8,127.50 due." in text
    assert timezone.localdate().strftime("%-d %b %Y") in text  # received on, readably


def test_downloading_the_invoice_marks_it_printed_with_who_and_how(client, head_office, sale):
    client.force_login(head_office)
    pdf = client.get(reverse("billing:sale_invoice_pdf", args=[sale.pk]), **HOST)
    assert pdf.content.startswith(b"%PDF")
    text = page(client, head_office, sale_url(sale))
    assert "by headoffice: A4 PDF from the admin" in text
    assert "Printed; e-mail waiting; unpaid" in text


def test_a_void_sale_shows_its_credit_note_with_its_pdf(client, head_office, sale):
    sale_void(transaction=sale, actor=head_office, reason="Wrong customer")
    note = sale.credit_note
    text = page(client, head_office, sale_url(sale))
    assert "Void (credit note issued)" in text
    assert note.number in text
    assert "Wrong customer" in text
    assert reverse("billing:credit_note_pdf", args=[note.pk]) in text
    assert reverse("admin:sales_creditnote_change", args=[note.pk]) in text
    assert "Void…" not in text  # already void


def test_failed_e_mail_shows_its_reason(client, head_office, sale):
    OutboxMessage.objects.filter(document_id=sale.pk).update(
        status=OutboxStatus.FAILED, attempts=3, last_error="Could not reach the mail server"
    )
    text = page(client, head_office, sale_url(sale))
    assert "Failed to accounts@buyer.example after 3 attempts: Could not reach the mail server" in (
        text
    )


def test_a_manager_sees_no_resend_button_and_only_their_depots_sales(
    client, manager, user_factory, south, sale
):
    text = page(client, manager, sale_url(sale))
    assert "Download invoice (PDF)" in text
    assert "Resend by e-mail" not in text
    client.force_login(user_factory("MANAGER", depots=[south]))
    response = client.get(sale_url(sale), **HOST)
    assert response.status_code == 302  # the admin: "doesn't exist", back to the list
    assert client.post(reverse("billing:sale_resend", args=[sale.pk]), **HOST).status_code == 404


# --- Resend ------------------------------------------------------------------------------


def resend(client, user, document_url_name, pk):
    client.force_login(user)
    return client.post(reverse(f"billing:{document_url_name}", args=[pk]), follow=True, **HOST)


def test_head_office_resends_the_latest_e_mail_of_the_sale(client, head_office, sale):
    first = OutboxMessage.objects.get(document_id=sale.pk)
    OutboxMessage.objects.filter(pk=first.pk).update(
        status=OutboxStatus.SENT, sent_at=timezone.now()
    )
    response = resend(client, head_office, "sale_resend", sale.pk)
    assert response.redirect_chain[-1][0] == sale_url(sale)
    again = OutboxMessage.objects.exclude(pk=first.pk).get(document_id=sale.pk)
    assert (again.resend_of, again.to) == (first, "accounts@buyer.example")
    assert f"{sale.number} will be e-mailed to accounts@buyer.example now." in (
        response.content.decode()
    )
    assert AuditLog.objects.filter(action="outbox_resend", actor=head_office).count() == 1


def test_a_waiting_e_mail_is_not_resent(client, head_office, sale):
    response = resend(client, head_office, "sale_resend", sale.pk)
    assert "needs no resend" in response.content.decode()
    assert OutboxMessage.objects.filter(document_id=sale.pk).count() == 1


def test_a_manager_may_not_resend(client, manager, sale):
    response = resend(client, manager, "sale_resend", sale.pk)
    assert "E-mails are resent by head office." in response.content.decode()
    assert OutboxMessage.objects.filter(document_id=sale.pk).count() == 1


def test_a_sale_never_e_mailed_says_why_then_goes_once_the_customer_has_an_address(
    client, head_office, customer_factory, loaded_vehicle, products
):
    paper = customer_factory("CASH")
    sold = sale_post(
        customer=paper,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["9KG"], "quantity": 1}],
    )
    text = page(client, head_office, sale_url(sold))
    assert f"Not e-mailed: {paper.code} {paper.name} had no e-mail address" in text
    response = resend(client, head_office, "sale_resend", sold.pk)
    assert f"{sold.number} has never been e-mailed" in response.content.decode()
    assert not OutboxMessage.objects.filter(document_id=sold.pk).exists()

    Customer.objects.filter(pk=paper.pk).update(email="new@buyer.example")
    resend(client, head_office, "sale_resend", sold.pk)
    message = OutboxMessage.objects.get(document_id=sold.pk)
    assert (message.kind, message.to, message.resend_of) == ("INVOICE", "new@buyer.example", None)


def test_resend_is_post_only_and_bad_ids_are_404(client, head_office, sale):
    client.force_login(head_office)
    url = reverse("billing:sale_resend", args=[sale.pk])
    assert client.get(url, **HOST).status_code == 405
    for name in ("sale_resend", "payment_resend", "credit_note_resend", "sale_invoice_pdf"):
        for pk in (999999, 2**70):
            path = reverse(f"billing:{name}", args=[pk])
            method = client.get if name.endswith("pdf") else client.post
            assert method(path, **HOST).status_code == 404, (name, pk)
    for model in ("transaction", "payment", "creditnote"):
        for bad in ("abc", "999999", str(2**70)):
            response = client.get(f"/admin/sales/{model}/{bad}/change/", **HOST)
            assert response.status_code == 302, (model, bad)


def test_the_payment_and_credit_note_resend(client, head_office, sale, customer):
    payment = payment_record(customer=customer, amount="100.00", actor=head_office)
    OutboxMessage.objects.update(status=OutboxStatus.SENT, sent_at=timezone.now())
    resend(client, head_office, "payment_resend", payment.pk)
    assert OutboxMessage.objects.filter(document_type="sales.Payment").count() == 2
    sale_void(transaction=sale, actor=head_office, reason="Wrong customer")
    note = sale.credit_note
    response = resend(client, head_office, "credit_note_resend", note.pk)
    assert "needs no resend" in response.content.decode()  # its first e-mail is waiting


# --- Payment and credit note pages -------------------------------------------------------


def test_the_payment_page_shows_allocations_on_account_and_reversal(
    client, head_office, sale, customer
):
    payment = payment_record(
        customer=customer, amount="15000.00", actor=head_office, method="CHEQUE", reference="CHQ 9"
    )
    url = reverse("admin:sales_payment_change", args=[payment.pk])
    text = page(client, head_office, url)
    for shown in (
        sale.number,
        sale_url(sale),
        "13,127.50",
        "1,872.50",  # on account
        "Cheque, reference CHQ 9",
        "by headoffice",
        "Waiting to be sent to accounts@buyer.example",
        "Download receipt (PDF)",
        "Resend by e-mail",
    ):
        assert shown in text, shown
    from sales.services import payment_reverse

    payment_reverse(payment=payment, actor=head_office, reason="Cheque bounced")
    text = page(client, head_office, url)
    assert "Cheque bounced" in text
    assert "(taken back)" in text


def test_the_credit_note_page_links_its_invoice(client, head_office, sale):
    sale_void(transaction=sale, actor=head_office, reason="Wrong customer")
    note = sale.credit_note
    text = page(client, head_office, reverse("admin:sales_creditnote_change", args=[note.pk]))
    assert sale_url(sale) in text
    assert reverse("billing:sale_invoice_pdf", args=[sale.pk]) in text
    assert reverse("billing:credit_note_pdf", args=[note.pk]) in text
    assert "13,127.50" in text
    assert "Wrong customer" in text
    assert "Waiting to be sent to accounts@buyer.example" in text


# --- The list ----------------------------------------------------------------------------


def test_the_sales_list_shows_the_invoice_status_and_filters_by_it(
    client, head_office, sale, customer_factory, loaded_vehicle, products
):
    other = sale_post(
        customer=customer_factory("CASH"),
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["9KG"], "quantity": 1}],
    )
    url = reverse("admin:sales_transaction_changelist")
    text = page(client, head_office, url)
    assert "E-mail waiting; unpaid" in text
    assert "Generated; paid" in text
    text = page(client, head_office, url + "?invoice=email_waiting")
    assert sale.number in text
    assert other.number not in text
    text = page(client, head_office, url + "?invoice=generated")
    assert other.number in text
    assert sale.number in text  # waiting is not yet e-mailed
    text = page(client, head_office, url + "?unpaid=paid")
    assert other.number in text
    assert sale.number not in text
    text = page(client, head_office, url + "?invoice=no-such-state")  # ignored: all shown
    assert sale.number in text
    assert other.number in text
    client.force_login(head_office)
    assert client.get(url + "?invoice=%00", **HOST).status_code == 400  # refused, not a 500


def test_the_resend_service_itself_refuses_anyone_but_head_office(manager, sale):
    from django.core.exceptions import PermissionDenied

    from billing.services.resend import document_resend

    with pytest.raises(PermissionDenied, match="head office"):
        document_resend(document=sale, actor=manager)
    assert OutboxMessage.objects.filter(document_id=sale.pk).count() == 1
