"""In a real browser: a depot manager opens the count sheet from the stock levels' list,
chooses the depot, finds every product prefilled with the system's figures, corrects one,
previews the difference, confirms, and lands on the CNT- page with its lines; then sends
full cylinders of two products to another depot on one transfer.

The browser, its download directory and the page helpers are test_browser.py's."""

import re

import pytest
from selenium.webdriver.support.ui import Select

from hsh_admin.tests.conftest import (  # noqa: F401 (fixtures, used by name)
    _browser_dirs,
    _media_in_tmp,
    _server_connections_close_after_each_request,
    _tasks_run_in_process,
    browser,
    driver,
)
from stock.models import StockCount, Transfer
from stock.selectors import stock_on_hand
from stock.services import stock_receive

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def north_stock(north, head_office, products):
    stock_receive(depot=north, product=products["12.7KG"], quantity=30, actor=head_office)
    stock_receive(depot=north, product=products["9KG"], quantity=8, actor=head_office)
    return products


def test_a_manager_counts_a_depot_on_one_sheet(
    browser,  # noqa: F811 (the fixture imported above)
    manager,
    north,
    north_stock,
):
    cyl = north_stock["12.7KG"]
    browser.login("northmanager")
    browser.wait_for("#user-tools", "the manager to be logged in")
    browser.go("/admin/stock/stocklevel/")
    browser.click_and_load(browser.find(".object-tools a[href='/admin/stock/stockcount/add/']"))

    Select(browser.find("#id_depot")).select_by_value(str(north.pk))
    browser.click_and_load(browser.find("input[type=submit]"))
    assert "Counting depot NORTH" in browser.text("#count-place"), browser.evidence()
    counted = browser.find(f"#id_counted_{cyl.pk}_full")
    assert counted.get_attribute("value") == "30", browser.evidence()  # the system's figure
    counted.clear()
    counted.send_keys("27")
    browser.find("#id_reason").send_keys("month-end count")
    browser.press("_preview")
    lines = browser.preview_lines()
    assert "Full 12.7KG: the system holds 30; you counted 27: adjustment of -3." in lines, (
        browser.evidence()
    )
    assert not StockCount.objects.exists(), "the preview posted the count"

    browser.press("_confirm")
    count = StockCount.objects.get()
    assert f"/admin/stock/stockcount/{count.pk}/change/" in browser.driver.current_url, (
        browser.evidence()
    )
    assert f"{count.number} posted" in " ".join(browser.messages()), browser.evidence()
    table = browser.text("#document-lines")
    assert re.search(r"12\.7KG · .* Full 30 27 -3", table), browser.evidence()
    assert re.search(r"9KG · .* Full 8 8 0", table), browser.evidence()
    assert "Adjustment (stock count)" in browser.text("#document-movements"), browser.evidence()
    assert stock_on_hand(product=cyl, depot=north) == 27


def test_a_manager_transfers_two_products_on_one_document(
    browser,  # noqa: F811 (the fixture imported above)
    manager,
    north,
    south,
    north_stock,
):
    cyl, nine = north_stock["12.7KG"], north_stock["9KG"]
    browser.login("northmanager")
    browser.wait_for("#user-tools", "the manager to be logged in")
    browser.go("/admin/stock/stocklevel/")
    browser.click_and_load(browser.find(".object-tools a[href='/admin/stock/transfer/add/']"))

    Select(browser.find("#id_from_depot")).select_by_value(str(north.pk))
    Select(browser.find("#id_to_depot")).select_by_value(str(south.pk))
    browser.find(f"#id_qty_{cyl.pk}").send_keys("10")
    browser.find(f"#id_qty_{nine.pk}").send_keys("9")  # one more than NORTH holds
    browser.press("_preview")
    error = browser.text(f"#product-rows tr:has(#id_qty_{nine.pk}) .errorlist")
    assert error == "Only 8 full 9KG cylinders at depot NORTH; 9 requested.", browser.evidence()

    field = browser.find(f"#id_qty_{nine.pk}")
    field.clear()
    field.send_keys("3")
    browser.press("_preview")
    assert "3 9KG: NORTH 8 -> 5; SOUTH 0 -> 3." in browser.preview_lines(), browser.evidence()
    browser.press("_confirm")
    transfer = Transfer.objects.get()
    assert f"/admin/stock/transfer/{transfer.pk}/change/" in browser.driver.current_url, (
        browser.evidence()
    )
    movements = browser.text("#document-movements")
    assert "depot NORTH depot SOUTH" in movements, browser.evidence()
    assert stock_on_hand(product=cyl, depot=south) == 10
    assert stock_on_hand(product=nine, depot=north) == 5
