"""The dashboard in a real browser: head office sees every depot's figures and charts, a
manager their own depots only; a figure opens the list it summarises, already filtered;
a bad filter is a message, not an error page; no serious accessibility violation."""

import pytest
from django.core.cache import cache
from selenium.webdriver.support.ui import Select

from core import display
from sales.services import sale_post

pytestmark = [
    pytest.mark.browser,
    pytest.mark.axe,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def sales(customer_factory, loaded_vehicle, products):
    """Today: a cash sale of 2 x 12.7KG (6,000.00) and a credit sale of 1 x 9KG (2,200.00)
    at NORTH, neither printed nor e-mailed."""
    cache.clear()  # the live server shares this process's cache
    made = [
        sale_post(
            customer=customer_factory(payment_type=kind),
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[{"product": products[code], "quantity": quantity}],
        )
        for kind, code, quantity in (("CASH", "12.7KG", 2), ("CREDIT", "9KG", 1))
    ]
    yield made
    cache.clear()


def test_head_office_sees_the_figures_and_follows_one_to_its_filtered_list(
    browser, head_office, sales
):
    browser.login("headoffice")
    browser.wait_for("#hsh-dashboard", "the dashboard")
    sales_panel = browser.text("[data-figure=sales]")
    assert "Today" in sales_panel, browser.evidence()
    assert display.money("8200.00") in sales_panel, browser.evidence()  # both sales
    assert "2 sales" in sales_panel, browser.evidence()
    assert "As of" in sales_panel, browser.evidence()
    assert display.money("6000.00") in browser.text("[data-figure=sales] .hsh-kpi:nth-child(5)")
    charts = browser.find_all("#hsh-dashboard svg[role=img]")
    assert len(charts) == 4, browser.evidence()
    assert all(c.get_attribute("aria-label") for c in charts), browser.evidence()
    top = browser.find("[data-figure=top] svg").get_attribute("innerHTML")
    assert "Customer 1 (C001)" in top, browser.evidence()  # the cash customer bought most
    cylinders = browser.text("[data-figure=cylinders]")
    assert "North depot (NORTH)" in cylinders, browser.evidence()
    quick = [a.text for a in browser.find_all("nav[aria-label='Quick actions'] a")]
    assert quick == ["New sale", "Record a payment", "New load sheet", "New count sheet"]
    browser.screenshot("dashboard")
    browser.assert_accessible()

    # The invoices neither printed nor e-mailed: the sales list, filtered to them.
    link = browser.find("[data-figure=invoices] td a")
    assert link.text == "2", browser.evidence()
    browser.click_and_load(link)
    assert "/admin/sales/transaction/" in browser.driver.current_url, browser.evidence()
    assert "invoice=generated" in browser.driver.current_url, browser.evidence()
    listed = {a.text.split()[0] for a in browser.find_all("#result_list tbody th a")}
    assert listed == {s.number for s in sales}, browser.evidence()
    browser.screenshot("dashboard-figure-opens-its-list")

    # Today's amount: the sales register for today.
    browser.go("/admin/")
    browser.click_and_load(browser.find("[data-figure=sales] .hsh-kpi a.big"))
    assert "/admin/reports/sales-register/" in browser.driver.current_url, browser.evidence()
    register = browser.text("#content")
    assert all(s.number in register for s in sales), browser.evidence()


def test_a_manager_sees_their_depots_and_a_bad_filter_is_a_message(browser, manager, south, sales):
    browser.login("northmanager")
    browser.wait_for("#hsh-dashboard", "the manager's dashboard")
    depots = [o.text for o in Select(browser.find("#dash-depot")).options]
    assert depots == ["North depot (NORTH)"], browser.evidence()
    assert display.money("8200.00") in browser.text("[data-figure=sales]"), browser.evidence()
    assert "SOUTH" not in browser.text("[data-figure=cylinders]"), browser.evidence()
    browser.click_and_load(browser.find(".hsh-dash-bar button[type=submit]"))
    assert "depot=NORTH" in browser.driver.current_url, browser.evidence()
    browser.wait_for("#hsh-dashboard", "the filtered dashboard")
    browser.screenshot("dashboard-manager")
    browser.assert_accessible()

    browser.go("/admin/?depot=SOUTH&date_from=2026-02-30")
    errors = browser.wait_for(".hsh-errors", "the filter's message").text
    assert "You do not work for depot SOUTH." in errors, browser.evidence()
    assert "does not exist" in errors, browser.evidence()
    assert not browser.find_all("#hsh-dashboard"), browser.evidence()
    assert browser.find_all("#dash-from"), browser.evidence()  # the form, to correct it
