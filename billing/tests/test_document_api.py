"""The field API's printable documents: scoped like every other endpoint (a representative
their own, a manager their depots'), errors in the API's envelope, and a printable copy
of an invoice recorded as printed."""

import pytest
from rest_framework.test import APIClient

from core.models import AuditLog

pytest_plugins = ["billing.tests.render_fixtures"]


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def printed(sale) -> list[dict]:
    entries = AuditLog.objects.filter(action="invoice_printed", object_id=str(sale.pk))
    return [entry.data for entry in entries.order_by("seq")]


def test_a_representative_downloads_their_invoice(credit_sale, loaded_vehicle):
    response = api(loaded_vehicle).get(f"/api/sales/{credit_sale.number}/invoice.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert printed(credit_sale) == [
        {"number": credit_sale.number, "format": "a4-pdf", "via": "api"}
    ]


def test_the_thermal_copy_is_esc_pos_bytes(credit_sale, loaded_vehicle):
    response = api(loaded_vehicle).get(f"/api/sales/{credit_sale.number}/receipt/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response.content.startswith(b"\x1b@")
    assert b"-" * 48 in response.content
    narrow = api(loaded_vehicle).get(f"/api/sales/{credit_sale.number}/receipt/?width=58")
    assert b"-" * 32 + b"\n" in narrow.content
    assert b"-" * 33 not in narrow.content
    assert [entry["format"] for entry in printed(credit_sale)] == ["escpos", "escpos"]


def test_the_thermal_copy_as_an_80_mm_pdf(credit_sale, loaded_vehicle):
    response = api(loaded_vehicle).get(f"/api/sales/{credit_sale.number}/receipt/?format=pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert printed(credit_sale)[0]["format"] == "thermal-pdf"


def test_a_width_other_than_58_or_80_is_refused_in_the_envelope(credit_sale, loaded_vehicle):
    response = api(loaded_vehicle).get(f"/api/sales/{credit_sale.number}/receipt/?width=76")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "width" in error["fields"]
    assert printed(credit_sale) == []


def test_a_representative_cannot_fetch_anothers_documents(
    credit_sale, payment, user_factory, north
):
    other = api(user_factory("SALES", depots=[north]))
    for path in (
        f"/api/sales/{credit_sale.number}/invoice.pdf",
        f"/api/sales/{credit_sale.number}/receipt/",
        f"/api/payments/{payment.number}/receipt.pdf",
        f"/api/payments/{payment.number}/receipt/",
    ):
        response = other.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    assert printed(credit_sale) == []


def test_a_manager_gets_their_depots_documents_only(credit_sale, manager, user_factory, south):
    assert api(manager).get(f"/api/sales/{credit_sale.number}/invoice.pdf").status_code == 200
    elsewhere = api(user_factory("MANAGER", depots=[south]))
    assert elsewhere.get(f"/api/sales/{credit_sale.number}/invoice.pdf").status_code == 404


def test_head_office_gets_every_document(credit_sale, head_office):
    assert api(head_office).get(f"/api/sales/{credit_sale.number}/receipt/").status_code == 200


def test_an_unknown_number_is_a_404(loaded_vehicle, db):
    response = api(loaded_vehicle).get("/api/sales/TX-2026-999999/invoice.pdf")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_signing_in_is_required(credit_sale):
    response = APIClient().get(f"/api/sales/{credit_sale.number}/invoice.pdf")
    assert response.status_code == 401
    assert response.json()["error"]["code"]


def test_a_payments_receipt(payment, loaded_vehicle):
    client = api(loaded_vehicle)
    pdf = client.get(f"/api/payments/{payment.number}/receipt.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    thermal = client.get(f"/api/payments/{payment.number}/receipt/?width=58")
    assert thermal.status_code == 200
    assert thermal.content.startswith(b"\x1b@")
    assert payment.number.encode() in thermal.content
    roll = client.get(f"/api/payments/{payment.number}/receipt/?format=pdf")
    assert roll["Content-Type"] == "application/pdf"


@pytest.mark.parametrize("path", ["invoice.pdf", "receipt/"])
def test_the_schema_lists_the_documents(path, head_office):
    schema = api(head_office).get("/api/schema/?format=json")
    assert schema.status_code == 200
    assert f"/api/sales/{{number}}/{path}" in schema.json()["paths"]
