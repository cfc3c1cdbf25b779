"""A rate import with errors in a real browser: the problems are a table a clerk reads
(row, column, the cell as typed, the problem in a sentence), nothing is imported, and the
file can be corrected and uploaded again."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from sales.models import RateImport
from sales.resources import COLUMNS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.axe,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_rate_import_with_errors_lists_them_in_a_table(
    browser, head_office, customer_factory, tmp_path
):
    customer = customer_factory(rates={"12.7KG": "3000.00", "9KG": "2200.00"})
    upload = tmp_path / "rates.csv"
    upload.write_text(
        ",".join(COLUMNS)
        + f"\n{customer.code},{customer.name},,1e3,3100,,,,31/02/2026"
        + "\nNOBODY,Nobody,,2500,,,,,\n",
        encoding="utf-8",
    )
    browser.login("headoffice")
    browser.wait_for("#user-tools", "head office to be logged in")
    browser.go("/admin/sales/ratetable/import/")
    browser.find("#id_import_file").send_keys(str(upload))
    Select(browser.find("#id_format")).select_by_visible_text("csv")
    browser.click_and_load(browser.find("form[enctype='multipart/form-data'] input[type=submit]"))

    browser.wait_for("#import-problems", "the table of problems")
    rows = [
        [cell.text for cell in row.find_elements(By.CSS_SELECTOR, "td")]
        for row in browser.find_all("#import-problems tbody tr")
    ]
    assert ["2", "9 kg rate", "1e3", "Enter an amount such as 1234.50; got '1e3'."] in rows, (
        browser.evidence()
    )
    assert any(r[:3] == ["2", "effective from", "31/02/2026"] for r in rows), browser.evidence()
    assert any(r[0] == "3" and "Unknown customer 'NOBODY'" in r[3] for r in rows), (
        browser.evidence()
    )
    assert "Nothing was imported" in browser.text("#content"), browser.evidence()
    # Plain sentences on the page, not hover badges.
    assert not browser.find_all(".validation-error-count"), browser.evidence()
    assert not browser.find_all("input[name=confirm]"), browser.evidence()
    assert not RateImport.objects.exists()
    browser.assert_accessible()
    browser.screenshot("rate-import-errors")

    # Corrected, the same file previews each change: the rate in force beside the new one.
    upload.write_text(
        ",".join(COLUMNS) + f"\n{customer.code},{customer.name},,2450,3100,,,,\n",
        encoding="utf-8",
    )
    browser.find("#id_import_file").send_keys(str(upload))
    Select(browser.find("#id_format")).select_by_visible_text("csv")
    browser.click_and_load(browser.find("form[enctype='multipart/form-data'] input[type=submit]"))
    browser.wait_for("#rate-changes", "the preview of the changes")
    preview = [
        [cell.text for cell in row.find_elements(By.CSS_SELECTOR, "td")]
        for row in browser.find_all("#rate-changes tbody tr")
    ]
    assert preview == [
        [customer.code, customer.name, "9 kg rate", "2,200.00", "2,450.00", "at once"],
        [customer.code, customer.name, "12.7 kg rate", "3,000.00", "3,100.00", "at once"],
    ], browser.evidence()
    assert not browser.find_all("#rate-changes del"), browser.evidence()  # no character diff
    assert browser.find_all("input[name=confirm]"), browser.evidence()
    browser.assert_accessible()
    browser.screenshot("rate-import-preview")
