"""The sales documents' pages in a real browser (issue 18, "Pages that show the whole
document"): a sale posted with its preview lands on its one page (lines, tax, deposits,
total); a payment's page says what it settled and what stays on account; a void issues a
credit note whose page shows what it credits; the customer's page shows their rates,
balance and ageing, latest documents and links. Screenshots into the artefacts folder;
axe-core over the sale's and the customer's pages."""

from decimal import Decimal

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from hsh_admin.tests.test_browser import choose_customer
from sales.models import Transaction
from sales.services import deposit_set, payment_record, sale_post
from sales.services.tax import tax_rate_set

pytestmark = [
    pytest.mark.browser,
    pytest.mark.axe,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

RATES = {"12.7KG": "3000.00", "9KG": "2200.00"}


@pytest.fixture
def priced(head_office, products):
    """18 % tax and a 2,500.00 deposit on each 12.7KG cylinder a customer keeps."""
    tax_rate_set(rate=Decimal("18"), actor=head_office)
    deposit_set(product=products["12.7KG"], amount=Decimal("2500.00"), actor=head_office)


@pytest.fixture
def buyer(customer_factory):
    return customer_factory("CREDIT", rates=RATES, credit_limit=Decimal("100000.00"))


def sell(rep, customer, products, code="12.7KG", quantity=2, empties=1):
    return sale_post(
        customer=customer,
        sales_rep=rep,
        actor=rep,
        lines=[{"product": products[code], "quantity": quantity, "empties_returned": empties}],
    )


def rows(browser, css):
    """The table's rows as lists of their cells' text."""
    return [
        [cell.text for cell in row.find_elements(By.CSS_SELECTOR, "td, th")]
        for row in browser.find_all(f"{css} tr")
    ]


def test_a_sale_posted_with_its_preview_shows_its_whole_page(
    browser, manager, buyer, loaded_vehicle, products, priced
):
    cyl = products["12.7KG"]
    browser.login("northmanager")
    browser.wait_for("#user-tools", "the manager to be logged in")
    browser.go("/admin/sales/transaction/add/")
    browser.wait_for("#sale-lines", "the sale entry form")
    choose_customer(browser, buyer)
    Select(browser.find("#id_sales_rep")).select_by_value(str(loaded_vehicle.pk))
    browser.find(f"#id_qty_{cyl.pk}").send_keys("2")
    browser.find(f"#id_empties_{cyl.pk}").send_keys("1")
    browser.press("_preview")
    lines = browser.preview_lines()
    assert "2 x 12.7KG at 3,000.00 = 6,000.00 (1 empties received)" in lines, browser.evidence()
    assert "Deposit on 12.7KG (not taxed): 1 cylinder x 2,500.00 = 2,500.00" in lines, (
        browser.evidence()
    )
    browser.press("_confirm")

    sale = Transaction.objects.get()
    assert f"/admin/sales/transaction/{sale.pk}/change/" in browser.driver.current_url
    head = browser.wait_for("#sale-head", "the sale's head").text
    assert f"Sale {sale.number}: Posted, credit sale of 9,580.00" in head, browser.evidence()
    assert f"{buyer.code} {buyer.name}" in head, browser.evidence()
    assert "Credit: on the customer's account" in head, browser.evidence()
    table = rows(browser, "#sale-lines-shown table")
    # 2 x 3,000.00 = 6,000.00 net; 18 % = 1,080.00; 1 cylinder kept: 2,500.00 deposit
    assert ["12.7 kg cylinder (12.7KG)", "2", "1", "3,000.00", "6,000.00"] in table, (
        browser.evidence()
    )
    assert ["Deposit on 12.7KG (not taxed): 1 cylinder x 2,500.00", "2,500.00"] in table
    assert ["GST at 18.00 %", "1,080.00"] in table, browser.evidence()
    assert ["Deposits (not taxed)", "2,500.00"] in table, browser.evidence()
    assert ["Total", "9,580.00"] in table, browser.evidence()
    assert ["Due", "9,580.00"] in table, browser.evidence()
    assert "Unpaid: 9,580.00 due." in browser.text("#invoice-status"), browser.evidence()
    # Read only: no field to type into anywhere on the page
    assert not browser.find_all("#transaction_form input[type=text], #transaction_form select")
    assert not browser.find_all("#transaction_form textarea"), browser.evidence()
    browser.screenshot("sale-page")
    browser.assert_accessible()


def test_the_payment_page_says_what_it_settled_and_what_stays_on_account(
    browser, head_office, buyer, loaded_vehicle, products
):
    first = sell(loaded_vehicle, buyer, products)  # 6,000.00
    second = sell(loaded_vehicle, buyer, products, "9KG", 1, 1)  # 2,200.00
    payment = payment_record(
        customer=buyer, amount="10000.00", actor=head_office, reference="CHQ 77"
    )
    browser.login("headoffice")
    browser.wait_for("#user-tools", "head office to be logged in")
    browser.go(f"/admin/sales/payment/{payment.pk}/change/")
    settled = rows(browser, "#payment-allocations tbody")
    assert [row[0] for row in settled] == [first.number, second.number], browser.evidence()
    assert settled[0][2] == "6,000.00", browser.evidence()  # the invoice's total
    assert settled[0][4] == "6,000.00", browser.evidence()  # applied
    assert settled[1][4] == "2,200.00", browser.evidence()
    summary = browser.text("#payment-summary")
    assert "Settles sales 8,200.00" in summary, browser.evidence()
    assert "On account 1,800.00" in summary, browser.evidence()
    assert "Cheque" in summary or "Cash" in summary, browser.evidence()
    browser.screenshot("payment-page")
    # The invoice links to its sale's page
    browser.click_and_load(browser.driver.find_element(By.LINK_TEXT, first.number))
    assert f"/admin/sales/transaction/{first.pk}/change/" in browser.driver.current_url


def test_a_void_issues_a_credit_note_whose_page_shows_what_it_credits(
    browser, head_office, buyer, loaded_vehicle, products
):
    sale = sell(loaded_vehicle, buyer, products)
    browser.login("headoffice")
    browser.wait_for("#user-tools", "head office to be logged in")
    browser.go(f"/admin/sales/transaction/{sale.pk}/change/")
    browser.click_and_load(browser.find(f"#invoice-status a[href$='/{sale.pk}/void/']"))
    browser.wait_for("#id_reason", "the void reason").send_keys("Customer refused delivery")
    browser.press("_preview")
    browser.press("_confirm")
    assert f"{sale.number} is void." in browser.messages(), browser.evidence()
    sale.refresh_from_db()
    note = sale.credit_note
    panel = browser.wait_for("#sale-credit-note", "the credit note panel").text
    assert note.number in panel, browser.evidence()
    assert "Customer refused delivery" in panel, browser.evidence()

    browser.click_and_load(browser.driver.find_element(By.LINK_TEXT, note.number))
    summary = browser.wait_for("#credit-note-summary", "the credit note's summary").text
    assert f"Credit note {note.number}, crediting {sale.number}" in summary, browser.evidence()
    assert "Reason Customer refused delivery" in summary, browser.evidence()
    credited = rows(browser, "#credit-note-lines table")
    assert ["12.7 kg cylinder (12.7KG)", "2", "1", "3,000.00", "6,000.00"] in credited
    assert ["Credited", "6,000.00"] in credited, browser.evidence()
    browser.screenshot("credit-note-page")
    browser.click_and_load(browser.driver.find_element(By.LINK_TEXT, sale.number))
    assert f"/admin/sales/transaction/{sale.pk}/change/" in browser.driver.current_url


def test_the_customer_page_shows_rates_balance_documents_and_links(
    browser, head_office, buyer, loaded_vehicle, products
):
    sale = sell(loaded_vehicle, buyer, products)  # 6,000.00
    payment = payment_record(customer=buyer, amount="1000.00", actor=head_office)
    browser.login("headoffice")
    browser.wait_for("#user-tools", "head office to be logged in")
    browser.go(f"/admin/sales/customer/{buyer.pk}/change/")
    account = browser.wait_for("#customer-account", "the customer's account").text
    assert "Balance 5,000.00 owed of a 100,000.00 limit" in account, browser.evidence()
    ageing = rows(browser, "#customer-ageing")
    assert ageing[-1] == ["5,000.00", "0.00", "0.00", "0.00", "5,000.00"], browser.evidence()
    rates = rows(browser, ".hsh-customer-rates tbody")
    assert rates[[r[0] for r in rates].index("12.7 kg rate")][:3] == [
        "12.7 kg rate",
        "12.7KG",
        "3,000.00",
    ], browser.evidence()
    assert browser.driver.find_elements(By.LINK_TEXT, sale.number), browser.evidence()
    assert browser.driver.find_elements(By.LINK_TEXT, payment.number), browser.evidence()
    # Head office still edits the master data on the same page
    assert browser.find("#id_name").get_attribute("value") == buyer.name
    browser.screenshot("customer-page")
    browser.assert_accessible()
    # "All sales" opens the sales list filtered to this customer
    browser.click_and_load(browser.driver.find_element(By.LINK_TEXT, "All sales"))
    assert f"customer__id__exact={buyer.pk}" in browser.driver.current_url
    assert sale.number in browser.text("#result_list"), browser.evidence()
