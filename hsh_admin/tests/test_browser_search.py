"""The header's global search in a real browser: a customer by account number, a sale
by its number (straight to its page), a part of a number (results grouped by kind)."""

from decimal import Decimal

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from sales.services import payment_record, sale_post

pytestmark = [
    pytest.mark.browser,
    pytest.mark.axe,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def documents(customer_factory, loaded_vehicle, products, head_office):
    customer = customer_factory(payment_type="CREDIT", credit_limit=Decimal("100000"))
    sales = [
        sale_post(
            customer=customer,
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[{"product": products["12.7KG"], "quantity": 1}],
        )
        for _ in range(2)
    ]
    payment = payment_record(customer=customer, amount="3000.00", actor=head_office)
    return {"customer": customer, "sales": sales, "payment": payment}


def search_for(browser, text):
    box = browser.wait_for("#hsh-search-q", "the search box in the header")
    box.clear()
    box.send_keys(text)
    page = browser.find("html")
    box.send_keys(Keys.ENTER)
    browser.wait(lambda d: page != browser.find("html"), "the search to answer")
    browser.wait_for("#content", "the next page")


def groups(browser):
    return {
        section.find_element(By.CSS_SELECTOR, "h2").text: [
            a.text for a in section.find_elements(By.CSS_SELECTOR, "li a")
        ]
        for section in browser.find_all(".hsh-search-results section")
    }


def test_the_header_search_finds_customers_and_documents(browser, documents, head_office):
    customer, sale = documents["customer"], documents["sales"][0]
    browser.login("headoffice")
    browser.wait_for("#user-tools", "head office to be logged in")

    search_for(browser, customer.code)
    found = groups(browser)
    assert list(found) == ["Customers (1)"], browser.evidence()
    assert found["Customers (1)"][0].startswith(f"{customer.code} · {customer.name}")
    assert browser.find("#hsh-search-q").get_attribute("value") == customer.code

    # A whole number opens the document itself.
    search_for(browser, sale.number.lower())
    assert f"/admin/sales/transaction/{sale.pk}/change/" in browser.driver.current_url, (
        browser.evidence()
    )

    # The number without its series: every kind that has it, grouped.
    search_for(browser, sale.number.split("-", 1)[1][:5])
    found = groups(browser)
    assert "Sales (2)" in found, browser.evidence()
    assert "Payments and receipts (1)" in found, browser.evidence()
    assert sorted(t.split(" · ")[0] for t in found["Sales (2)"]) == sorted(
        s.number for s in documents["sales"]
    )
    assert "3,000.00" in found["Sales (2)"][0], browser.evidence()
    browser.assert_accessible()
    browser.screenshot("search")

    first = browser.find(".hsh-search-results section li a")
    browser.click_and_load(first)
    assert "/admin/sales/transaction/" in browser.driver.current_url, browser.evidence()
