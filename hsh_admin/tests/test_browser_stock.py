"""In a real browser: the pages that show a whole stock document, a history and the audit
log, as a clerk reads them.

- a load sheet made in the admin, then its page: its lines (product, full, empty) with a
  total, the movements it posted, who posted it and when, the related documents;
- a count sheet's page: what the system held, what was counted and the variance;
- a cylinder return's page: its lines with the deposit refunded, and the sale it settled;
- a history page: a field-by-field diff in words, and a version's page with no form;
- an audit log entry: the action in words, its data as a table, a link to its object.

Each asserts what the clerk must see and keeps a screenshot; the load sheet's page, the
history page and the audit log are checked with axe-core."""

from decimal import Decimal as D

import pytest
from selenium.webdriver.support.ui import Select

from core.models import AuditLog
from stock.models import Distribution
from stock.services import product_update, stock_count_post, stock_receive

pytestmark = [
    pytest.mark.browser,
    pytest.mark.axe,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def north_stock(north, head_office, products):
    stock_receive(depot=north, product=products["12.7KG"], quantity=1500, actor=head_office)
    stock_receive(depot=north, product=products["9KG"], quantity=40, actor=head_office)
    return products


def test_a_load_sheet_made_in_the_admin_then_its_page(
    browser, head_office, sales_rep, north, north_stock
):
    cyl, nine = north_stock["12.7KG"], north_stock["9KG"]
    browser.login("headoffice")
    browser.wait_for("#user-tools", "head office to be logged in")
    browser.go("/admin/stock/distribution/load-sheet/")
    Select(browser.find("#id_kind")).select_by_value("COLLECTION")
    Select(browser.find("#id_sales_rep")).select_by_value(str(sales_rep.pk))
    browser.find(f"#id_qty_{cyl.pk}").send_keys("1200")
    browser.find(f"#id_qty_{nine.pk}").send_keys("6")
    browser.press("_preview")
    browser.press("_confirm")
    load = Distribution.objects.get()
    assert f"/admin/stock/distribution/{load.pk}/change/" in browser.driver.current_url, (
        browser.evidence()
    )
    lines = browser.text("#document-lines")
    assert "PRODUCT FULL EMPTY" in lines.upper(), browser.evidence()
    assert f"12.7KG · {cyl.name} 1,200 -" in lines, browser.evidence()
    assert f"9KG · {nine.name} 6 -" in lines, browser.evidence()
    assert "Total 1,206 -" in lines, browser.evidence()
    movements = browser.text("#document-movements")
    assert "Collection 12.7KG Full 1,200 depot NORTH vehicle" in movements, browser.evidence()
    page = browser.text("#content")
    assert "Load sheet: full cylinders from depot NORTH onto the vehicle" in page
    assert f"by {head_office}" in page, browser.evidence()
    assert "Its audit log entry" in browser.text("#document-related")
    for code in ("None", "COLLECTION", "Idempotency", "fingerprint"):
        assert code not in page, code
    assert not browser.find_all("#content input[type=text], #content input[name=_save]")
    browser.screenshot("load sheet page")
    browser.assert_accessible()

    browser.go("/admin/stock/distribution/")
    row = browser.text("#result_list tbody tr")
    assert load.distribution_no in row, browser.evidence()
    assert "1,200 x 12.7KG" in row, browser.evidence()
    width = browser.driver.execute_script(
        "const r = document.querySelector('.results'); return [r.scrollWidth, r.clientWidth];"
    )
    assert width[0] <= width[1], f"the list is wider than the page: {width}"
    browser.screenshot("distributions list")


def test_a_count_sheet_page(browser, head_office, north, north_stock):
    cyl, nine = north_stock["12.7KG"], north_stock["9KG"]
    count = stock_count_post(
        depot=north,
        lines=[
            {"product": cyl, "state": "FULL", "counted": 1497},
            {"product": nine, "state": "FULL", "counted": 40},
        ],
        reason="month end",
        actor=head_office,
    )
    browser.login("headoffice")
    browser.wait_for("#user-tools", "head office to be logged in")
    browser.go(f"/admin/stock/stockcount/{count.pk}/change/")
    lines = browser.text("#document-lines")
    assert "SYSTEM HELD COUNTED VARIANCE" in lines.upper(), browser.evidence()
    assert f"12.7KG · {cyl.name} Full 1,500 1,497 -3" in lines, browser.evidence()
    assert f"9KG · {nine.name} Full 40 40 0" in lines, browser.evidence()
    assert "Adjustment (stock count)" in browser.text("#document-movements")
    assert "1 of 2 lines differ" in browser.text("#content"), browser.evidence()
    browser.screenshot("count sheet page")


def test_a_cylinder_return_page(
    browser, head_office, loaded_vehicle, customer_factory, products, settings
):
    from sales.services import cylinder_return, deposit_set, sale_post

    deposit_set(product=products["12.7KG"], amount=D("2500.00"), actor=head_office)
    customer = customer_factory("CREDIT", credit_limit=D("100000.00"))
    sale = sale_post(
        customer=customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 3, "empties_returned": 0}],
    )
    returned = cylinder_return(
        customer=customer,
        sales_rep=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 2}],
        actor=loaded_vehicle,
    )
    browser.login("headoffice")
    browser.wait_for("#user-tools", "head office to be logged in")
    browser.go(f"/admin/sales/cylinderreturn/{returned.pk}/change/")
    lines = browser.text("#document-lines")
    assert "EMPTY CYLINDERS DEPOSIT EACH DEPOSIT REFUNDED" in lines.upper(), browser.evidence()
    assert "2,500.00" in lines
    assert "Total 2" in lines
    assert "5,000.00" in lines, browser.evidence()
    related = browser.text("#document-related")
    assert f"{customer.code} {customer.name}" in related, browser.evidence()
    assert sale.number in related, browser.evidence()
    assert "credited to the customer's account" in browser.text("#content")
    browser.screenshot("cylinder return page")


def test_a_history_page_shows_a_diff_in_words(browser, head_office, products):
    product = products["9KG"]
    product_update(product=product, actor=head_office, data={"list_price": D("2850.00")})
    product_update(product=product, actor=head_office, data={"list_price": D("12500.00")})
    browser.login("headoffice")
    browser.wait_for("#user-tools", "head office to be logged in")
    browser.go(f"/admin/stock/product/{product.pk}/history/")
    newest = browser.find_all(".hsh-version")[0]
    text = newest.text
    assert "Changed on" in text, browser.evidence()
    assert str(head_office) in text, browser.evidence()
    assert "List price 2,850.00 12,500.00" in text.replace(" → ", " "), browser.evidence()
    main = browser.text("#content-main")
    assert "None" not in main
    assert "Change reason" not in main
    browser.screenshot("product history")
    browser.assert_accessible()

    browser.click_and_load(newest.find_element("css selector", "h2 a"))
    assert "as it was on" in browser.text("#content"), browser.evidence()
    assert "List price" in browser.text("#version-values")
    assert not browser.find_all("#content-main form, #content-main input, #content-main select")
    browser.screenshot("product version")


def test_the_audit_log_entry_page(browser, head_office, north_stock):
    entry = AuditLog.objects.filter(action="stock_receive").order_by("seq").first()
    browser.login("headoffice")
    browser.wait_for("#user-tools", "head office to be logged in")
    browser.go("/admin/core/auditlog/")
    listed = browser.text("#result_list")
    assert "Stock received" in listed, browser.evidence()
    assert "stock_receive" not in listed
    browser.screenshot("audit log list")
    browser.assert_accessible()

    browser.go(f"/admin/core/auditlog/{entry.pk}/change/")
    content = browser.text("#content")
    assert "Stock received" in content, browser.evidence()
    data = browser.text(".hsh-audit-data")
    assert "Depot NORTH" in data, browser.evidence()
    assert "Quantity 1,500" in data, browser.evidence()
    assert "{" not in content
    link = browser.find(".field-about_link a")
    assert link.get_attribute("href").endswith(
        f"/admin/stock/stockmovement/{entry.object_id}/change/"
    )
    browser.screenshot("audit log entry")
    browser.assert_accessible()
