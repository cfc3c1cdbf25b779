"""The admin in a real browser: log in, post and void a sale, import rates, export a report.

Headless Debian chromium driven by selenium against pytest-django's live server (the
fixtures are in conftest.py, the helper in browser.py). A failed wait or assertion saves a
screenshot and the page source and names them in the message.
"""

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from reporting.models import ExportJob, JobStatus
from sales.models import Rate, RateImport, Transaction
from sales.resources import COLUMNS
from sales.selectors import rate_in_force
from sales.services import sale_post

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# The rates of every customer here (customer_factory's default adds a meter rate, which
# the rate-table preview would show).
RATES = {"12.7KG": "3000.00", "9KG": "2200.00"}


@pytest.fixture
def posted_sale(customer_factory, loaded_vehicle, products):
    """2 full 12.7KG sold to a cash customer, 1 empty taken back: 6000.00."""
    return sale_post(
        customer=customer_factory(rates=RATES),
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 2, "empties_returned": 1}],
    )


# --- 1. Logging in -----------------------------------------------------------------------


def test_a_wrong_password_is_refused_and_the_right_one_lets_head_office_in(
    browser, head_office, sales_rep
):
    browser.login("headoffice", "not-the-password")
    error = browser.wait_for(".errornote", "the login error").text
    assert "Please enter the correct username and password" in error, browser.evidence()
    assert "/admin/login/" in browser.driver.current_url, browser.evidence()
    assert not browser.find_all("#user-tools"), browser.evidence()

    browser.login("northrep")
    error = browser.wait_for(".errornote", "the refusal of a sales representative").text
    assert "Sales representatives work from the handheld app" in error, browser.evidence()

    browser.login("headoffice")
    tools = browser.wait_for("#user-tools", "the logged-in user tools").text
    assert "HEADOFFICE" in tools.upper(), browser.evidence()
    assert "/admin/login/" not in browser.driver.current_url, browser.evidence()
    assert browser.find("#site-name").text == "HSH Sales", browser.evidence()
    # Head office sees the whole admin, users included.
    assert browser.find_all("a[href='/admin/core/user/']"), browser.evidence()


# --- 2. Posting a sale -------------------------------------------------------------------


def choose_customer(browser, customer):
    """The customer field is the admin's autocomplete (select2): type, then pick."""
    browser.find(".field-customer .select2-selection").click()
    search = browser.wait_for(".select2-container--open .select2-search__field", "the search box")
    search.send_keys(customer.code)
    option = browser.wait(
        EC.element_to_be_clickable(
            (
                By.XPATH,
                "//li[contains(@class, 'select2-results__option')]"
                f"[contains(normalize-space(.), '{customer.code} {customer.name}')]",
            )
        ),
        f"customer {customer.code} among the autocomplete results",
    )
    option.click()
    browser.wait(
        lambda d: customer.code in browser.text(".field-customer .select2-selection__rendered"),
        "the chosen customer to show",
    )


def test_a_manager_posts_a_sale_and_the_vehicle_stock_changes(
    browser, manager, customer_factory, loaded_vehicle, products
):
    customer = customer_factory(rates=RATES)
    cyl = products["12.7KG"]
    browser.login("northmanager")
    browser.wait_for("#user-tools", "the manager to be logged in")

    levels, totals = browser.vehicle_stock(loaded_vehicle)
    assert levels.get(("12.7KG", "Full")) == 20, browser.evidence()
    assert levels.get(("12.7KG", "Empty"), 0) == 0, browser.evidence()
    assert "full 30, empty 0" in totals, browser.evidence()

    browser.go("/admin/sales/transaction/add/")
    browser.wait_for("#sale-lines", "the sale entry form")
    choose_customer(browser, customer)
    Select(browser.find("#id_sales_rep")).select_by_value(str(loaded_vehicle.pk))
    browser.find(f"#id_qty_{cyl.pk}").send_keys("2")
    browser.find(f"#id_empties_{cyl.pk}").send_keys("1")
    browser.press("_preview")

    lines = browser.preview_lines()
    assert "2 x 12.7KG at 3,000.00 = 6,000.00 (1 empties received)" in lines, browser.evidence()
    assert "Total: 6,000.00" in lines, browser.evidence()
    assert "Nothing has been written yet" in browser.text("#content-main"), browser.evidence()
    assert not Transaction.objects.exists(), "the preview posted the sale"

    browser.press("_confirm")
    sale = Transaction.objects.get()
    assert (sale.status, sale.total_amount, sale.created_by) == (
        "POSTED",
        Decimal("6000.00"),
        manager,
    )
    assert f"{sale.number} posted: 6,000.00 from {customer.code}." in browser.messages(), (
        browser.evidence()
    )
    assert f"/admin/sales/transaction/{sale.pk}/change/" in browser.driver.current_url

    levels, totals = browser.vehicle_stock(loaded_vehicle)
    assert levels[("12.7KG", "Full")] == 18, browser.evidence()
    assert levels[("12.7KG", "Empty")] == 1, browser.evidence()
    assert levels[("9KG", "Full")] == 10, browser.evidence()
    assert "full 28, empty 1" in totals, browser.evidence()


# --- 3. Voiding it -----------------------------------------------------------------------


def test_the_void_action_asks_for_a_reason_and_puts_the_stock_back(
    browser, manager, posted_sale, loaded_vehicle
):
    browser.login("northmanager")
    browser.wait_for("#user-tools", "the manager to be logged in")
    levels, _ = browser.vehicle_stock(loaded_vehicle)
    assert (levels[("12.7KG", "Full")], levels[("12.7KG", "Empty")]) == (18, 1), browser.evidence()

    browser.go("/admin/sales/transaction/")
    browser.wait_for("#result_list", "the sales list")
    assert posted_sale.number in browser.text("#result_list"), browser.evidence()
    browser.find(f"input.action-select[value='{posted_sale.pk}']").click()
    Select(browser.find("select[name=action]")).select_by_value("void_selected")
    browser.click_and_load(browser.find("#changelist-form button[name=index]"))

    # One sale selected: the action opens its void page, which asks for the reason.
    reason = browser.wait_for("#id_reason", "the void reason field")
    reason.send_keys("wrong customer")
    browser.press("_preview")
    lines = browser.preview_lines()
    assert "2 full 12.7KG back on the vehicle; 1 empties off it." in lines, browser.evidence()
    assert "Reason: wrong customer" in lines, browser.evidence()
    posted_sale.refresh_from_db()
    assert posted_sale.status == "POSTED", "the void preview wrote the void"

    browser.press("_confirm")
    assert f"{posted_sale.number} is void." in browser.messages(), browser.evidence()
    posted_sale.refresh_from_db()
    assert (posted_sale.status, posted_sale.void_reason) == ("VOID", "wrong customer")
    assert not browser.driver.find_elements(By.LINK_TEXT, "Void this sale"), browser.evidence()

    levels, totals = browser.vehicle_stock(loaded_vehicle)
    assert levels[("12.7KG", "Full")] == 20, browser.evidence()
    assert levels.get(("12.7KG", "Empty"), 0) == 0, browser.evidence()
    assert "full 30, empty 0" in totals, browser.evidence()


# --- 4. Importing a rate table -----------------------------------------------------------


def test_a_rate_table_import_previews_then_writes_on_confirm(
    browser, head_office, customer_factory, products, tmp_path
):
    changed, unchanged = customer_factory(rates=RATES), customer_factory(rates=RATES)
    upload = tmp_path / "rates.csv"
    upload.write_text(
        ",".join(COLUMNS)
        + f"\n{changed.code},{changed.name},,2450,3100,,,,"
        + f"\n{unchanged.code},{unchanged.name},,,,,,,\n",
        encoding="utf-8",
    )
    rates_before = Rate.objects.count()

    browser.login("headoffice")
    browser.wait_for("#user-tools", "head office to be logged in")
    browser.go("/admin/sales/ratetable/")
    browser.click_and_load(browser.wait_for("a.import_link", "the Import button"))
    browser.find("#id_import_file").send_keys(str(upload))
    Select(browser.find("#id_format")).select_by_visible_text("csv")
    browser.click_and_load(browser.find("form[enctype='multipart/form-data'] input[type=submit]"))

    confirm = browser.wait_for("input[type=submit][name=confirm]", "the Confirm import button")
    # The preview lists each rate it changes: the one in force beside the new one.
    preview = [
        [cell.text for cell in row.find_elements(By.CSS_SELECTOR, "td")]
        for row in browser.find_all("#rate-changes tbody tr")
    ]
    assert preview == [
        [changed.code, changed.name, "9 kg rate", "2,200.00", "2,450.00", "at once"],
        [changed.code, changed.name, "12.7 kg rate", "3,000.00", "3,100.00", "at once"],
    ], browser.evidence()
    assert "1 row of the file changes nothing." in browser.text("#content")
    # The preview is a dry run: nothing is written until it is confirmed.
    assert Rate.objects.count() == rates_before
    assert not RateImport.objects.exists()
    assert rate_in_force(customer=changed, product=products["9KG"]) == Decimal("2200.00")

    browser.click_and_load(confirm)
    assert "/admin/sales/ratetable/" in browser.driver.current_url, browser.evidence()
    batch = RateImport.objects.get()
    assert (
        f"2 rates changed for 1 customer (import #{batch.pk}: it can be undone from "
        "Sales > Rate imports)." in browser.messages()
    ), browser.evidence()
    assert batch.created_by == head_office
    assert batch.file_name == "rates.csv"
    assert sorted((r.customer.code, r.product.code, r.rate) for r in batch.rates.all()) == [
        (changed.code, "12.7KG", Decimal("3100.00")),
        (changed.code, "9KG", Decimal("2450.00")),
    ]
    assert rate_in_force(customer=changed, product=products["9KG"]) == Decimal("2450.00")
    assert rate_in_force(customer=unchanged, product=products["9KG"]) == Decimal("2200.00")

    row = browser.wait(
        EC.visibility_of_element_located(
            (By.XPATH, f"//table[@id='result_list']//tr[.//a[normalize-space()='{changed.code}']]")
        ),
        f"the rate table row of {changed.code}",
    )
    assert "2,450.00" in row.text, browser.evidence()
    assert "3,100.00" in row.text, browser.evidence()


# --- 5. Exporting a report ---------------------------------------------------------------


def test_a_background_report_export_is_built_and_downloaded(
    browser, manager, posted_sale, loaded_vehicle
):
    browser.login("northmanager")
    browser.wait_for("#user-tools", "the manager to be logged in")
    browser.go("/admin/reports/")
    browser.click_and_load(
        browser.wait(
            EC.element_to_be_clickable(
                (By.CSS_SELECTOR, "a[href='/admin/reports/sales-register/']")
            ),
            "the Sales register link",
        )
    )
    table = browser.wait_for("#report-table", "the sales register").text
    assert posted_sale.number in table, browser.evidence()

    button = "//button[normalize-space()='CSV in the background']"  # a POST form, not a link
    browser.click_and_load(browser.driver.find_element(By.XPATH, button))
    job = ExportJob.objects.get()
    assert f"/admin/reporting/exportjob/{job.pk}/change/" in browser.driver.current_url, (
        browser.evidence()
    )
    assert (job.report, job.format, job.requested_by) == ("sales-register", "csv", manager)
    # Built eagerly once the request committed; a page still building refreshes itself.
    link = browser.wait(
        EC.element_to_be_clickable((By.LINK_TEXT, "Download")), "the export's Download link"
    )
    job.refresh_from_db()
    assert (job.status, job.row_count) == (JobStatus.DONE, 1)

    link.click()
    path = browser.downloaded_file(".csv")
    assert path.name == Path(job.file.name).name
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows[0][:3] == ["Happened", "Sale", "Status"], rows[0]  # the page's headings
    assert len(rows) == 2, rows
    sale_row = dict(zip(rows[0], rows[1], strict=True))
    assert sale_row["Sale"] == posted_sale.number
    assert (sale_row["Status"], sale_row["Product"]) == ("POSTED", "12.7KG")
    assert Decimal(sale_row["Quantity"]) == 2
    assert Decimal(sale_row["Amount"]) == Decimal("6000.00")
