"""In a real browser: head office posts a sale through the admin's form (preview, then
confirm), lands on the sale's page, reads its invoice status ("generated"), downloads the
invoice PDF through Chromium's own download, and the page then says it was printed
(fetching a printable copy is printing: billing.services.printing).

The browser fixtures are in conftest.py; choose_customer is test_browser.py's."""

import io
from decimal import Decimal

import pytest
from pypdf import PdfReader
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from core.models import AuditLog
from hsh_admin.tests.test_browser import RATES, choose_customer
from sales.models import Transaction

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_head_office_posts_a_sale_and_downloads_its_invoice_which_becomes_printed(
    browser,
    head_office,
    customer_factory,
    loaded_vehicle,
    products,
):
    customer = customer_factory(rates=RATES)  # cash, no e-mail address: paper only
    cyl = products["12.7KG"]
    browser.login("headoffice")
    browser.wait_for("#user-tools", "head office to be logged in")

    browser.go("/admin/sales/transaction/add/")
    browser.wait_for("#sale-lines", "the sale entry form")
    choose_customer(browser, customer)
    Select(browser.find("#id_sales_rep")).select_by_value(str(loaded_vehicle.pk))
    browser.find(f"#id_qty_{cyl.pk}").send_keys("2")
    browser.press("_preview")
    assert "Total: 6,000.00" in browser.preview_lines(), browser.evidence()
    assert not Transaction.objects.exists(), "the preview posted the sale"

    browser.press("_confirm")
    sale = Transaction.objects.get()
    assert sale.total_amount == Decimal("6000.00")
    assert f"/admin/sales/transaction/{sale.pk}/change/" in browser.driver.current_url, (
        browser.evidence()
    )
    status = browser.wait_for("#invoice-status-words", "the invoice status").text
    assert status == "Generated; paid", browser.evidence()
    panel = browser.text("#invoice-status")
    assert "Not printed yet." in panel, browser.evidence()
    assert f"Not e-mailed: {customer.code} {customer.name} had no e-mail address" in panel, (
        browser.evidence()
    )
    assert "Cash sale: 6,000.00 paid at posting." in panel, browser.evidence()

    browser.find("#invoice-pdf").click()  # a download: the page stays
    path = browser.downloaded_file(".pdf")
    assert path.name == f"{sale.number}.pdf"
    data = path.read_bytes()
    assert data.startswith(b"%PDF"), data[:20]
    assert sale.number in PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert AuditLog.objects.filter(
        action="invoice_printed", object_id=str(sale.pk), actor=head_office
    ).exists()

    browser.go(f"/admin/sales/transaction/{sale.pk}/change/")
    status = browser.wait_for("#invoice-status-words", "the invoice status").text
    assert status == "Printed; paid", browser.evidence()
    assert "by headoffice: A4 PDF from the admin" in browser.text("#invoice-status"), (
        browser.evidence()
    )
    # The buttons a clerk needs are there; the resend form posts (never a GET link).
    form = browser.find("#invoice-status form")
    assert form.get_attribute("method") == "post", browser.evidence()
    assert form.find_element(By.CSS_SELECTOR, "input[type=submit]").get_attribute("value") == (
        "Resend by e-mail"
    )
