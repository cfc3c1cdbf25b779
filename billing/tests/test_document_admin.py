"""The admin's document buttons: on a sale's, a payment's and a credit note's page, links
to the PDFs, served to staff who may see the document (head office: all; a manager:
their depots')."""

from django.urls import reverse

from core.models import AuditLog

pytest_plugins = ["billing.tests.render_fixtures"]


def test_the_sales_page_has_its_invoice_buttons(client, head_office, credit_sale):
    client.force_login(head_office)
    page = client.get(reverse("admin:sales_transaction_change", args=[credit_sale.pk]))
    content = page.content.decode()
    invoice = reverse("billing:sale_invoice_pdf", args=[credit_sale.pk])
    thermal = reverse("billing:sale_thermal_pdf", args=[credit_sale.pk])
    assert "Download invoice (PDF)" in content
    assert "Thermal copy (80 mm PDF)" in content
    assert invoice in content
    assert thermal in content
    response = client.get(invoice)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert f'filename="{credit_sale.number}.pdf"' in response["Content-Disposition"]
    assert client.get(thermal).content.startswith(b"%PDF")
    formats = AuditLog.objects.filter(action="invoice_printed").values_list("data", flat=True)
    assert sorted(entry["format"] for entry in formats) == ["a4-pdf", "thermal-pdf"]


def test_the_payments_page_has_its_receipt_buttons(client, head_office, payment):
    client.force_login(head_office)
    page = client.get(reverse("admin:sales_payment_change", args=[payment.pk])).content.decode()
    for name in ("payment_receipt_pdf", "payment_thermal_pdf"):
        url = reverse(f"billing:{name}", args=[payment.pk])
        assert url in page
        assert client.get(url).content.startswith(b"%PDF")
    assert "Download receipt (PDF)" in page


def test_the_credit_notes_page_has_its_buttons(client, head_office, credit_note):
    client.force_login(head_office)
    page = client.get(reverse("admin:sales_creditnote_change", args=[credit_note.pk]))
    content = page.content.decode()
    for name in ("credit_note_pdf", "credit_note_thermal_pdf"):
        url = reverse(f"billing:{name}", args=[credit_note.pk])
        assert url in content
        assert client.get(url).content.startswith(b"%PDF")


def test_a_manager_downloads_only_their_depots_documents(
    client, manager, user_factory, south, credit_sale, credit_note
):
    client.force_login(manager)
    assert client.get(reverse("billing:sale_invoice_pdf", args=[credit_sale.pk])).status_code == 200
    assert client.get(reverse("billing:credit_note_pdf", args=[credit_note.pk])).status_code == 200
    client.force_login(user_factory("MANAGER", depots=[south]))
    for name, pk in (
        ("sale_invoice_pdf", credit_sale.pk),
        ("sale_thermal_pdf", credit_sale.pk),
        ("credit_note_pdf", credit_note.pk),
    ):
        assert client.get(reverse(f"billing:{name}", args=[pk])).status_code == 404


def test_the_downloads_need_an_admin_login(client, loaded_vehicle, credit_sale):
    url = reverse("billing:sale_invoice_pdf", args=[credit_sale.pk])
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(loaded_vehicle)  # a representative: the API, not the admin
    assert client.get(url).status_code == 302
