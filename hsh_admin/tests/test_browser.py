"""The admin in a real browser: log in, post and void a sale, import rates, export a report.

Headless Debian chromium driven by selenium against pytest-django's live server. The
driver is started once per session; each test starts from a clean cookie jar. A failed
wait or assertion saves a screenshot and the page source and names them in the message.
"""

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import (
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from reporting.models import ExportJob, JobStatus
from sales.models import Rate, RateImport, Transaction
from sales.resources import COLUMNS
from sales.selectors import rate_in_force
from sales.services import sale_post

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT_SECONDS = 15
PASSWORD = "correct-horse-battery"  # the root conftest's user_factory default


# --- The browser -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _browser_dirs(tmp_path_factory):
    return {
        "downloads": tmp_path_factory.mktemp("browser-downloads"),
        "evidence": tmp_path_factory.mktemp("browser-evidence"),
    }


@pytest.fixture(scope="session")
def driver(_browser_dirs):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1000",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(_browser_dirs["downloads"]),
            "download.prompt_for_download": False,
            "download.directory_upgrade": True,
            "safebrowsing.enabled": False,
        },
    )
    chrome = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield chrome
    finally:
        chrome.quit()


def _gone(element) -> bool:
    """Whether `element` belongs to a page that has been replaced. Chromium sometimes
    answers a lookup of such a node with an inspector error ("Node with given id does not
    belong to the document") instead of a stale-element error: both mean it is gone."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as exc:
        if "does not belong to the document" in str(exc):
            return True
        raise
    return False


class Browser:
    """The driver with the few moves these tests make, and evidence on failure."""

    def __init__(self, driver, base_url, downloads, evidence, name):
        self.driver = driver
        self.base_url = base_url
        self.downloads = downloads
        self.evidence_dir = evidence
        self.name = re.sub(r"[^\w.-]+", "_", name)
        self.shots = 0

    # Navigation and lookups

    def go(self, path):
        self.driver.get(self.base_url + path)

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait(self, condition, what, timeout=WAIT_SECONDS):
        try:
            return WebDriverWait(self.driver, timeout).until(condition)
        except TimeoutException:
            raise AssertionError(f"Timed out waiting for {what}. {self.evidence()}") from None

    def wait_for(self, css, what=None):
        return self.wait(
            EC.visibility_of_element_located((By.CSS_SELECTOR, css)), what or f"element {css}"
        )

    def click_and_load(self, element):
        """Click something that loads a new page, and wait until it has."""
        page = self.find("html")
        element.click()
        self.wait(lambda d: _gone(page), "the next page to load")
        self.wait(
            lambda d: d.execute_script("return document.readyState") == "complete",
            "the page to finish loading",
        )

    def press(self, name):
        """Press the submit button called `name` (the preview/confirm buttons)."""
        self.click_and_load(self.find(f"input[type=submit][name={name}]"))

    def text(self, css="body"):
        return self.find(css).text

    def evidence(self):
        """Save a screenshot and the page source; return a message naming them."""
        self.shots += 1
        stem = self.evidence_dir / f"{self.name}-{self.shots}"
        try:
            self.driver.save_screenshot(str(stem.with_suffix(".png")))
            stem.with_suffix(".html").write_text(self.driver.page_source, encoding="utf-8")
        except Exception as exc:  # the evidence must never hide the real failure
            return f"(no evidence saved: {exc})"
        return f"At {self.driver.current_url}; screenshot and source: {stem}.png / .html"

    # Admin moves

    def login(self, username, password=PASSWORD):
        self.go("/admin/login/?next=/admin/")
        self.find("#id_username").send_keys(username)
        self.find("#id_password").send_keys(password)
        self.click_and_load(self.find("#login-form input[type=submit]"))

    def messages(self):
        return [li.text for li in self.find_all("ul.messagelist li")]

    def preview_lines(self):
        return [li.text for li in self.find_all("ul.hsh-preview li")]

    def vehicle_stock(self, rep):
        """{(product, state): quantity} and the totals line of the rep's vehicle levels."""
        self.go(f"/admin/stock/stocklevel/?vehicle={rep.pk}")
        self.wait_for("#result_list", "the stock levels list")
        levels = {}
        for row in self.find_all("#result_list tbody tr"):
            product = row.find_element(By.CSS_SELECTOR, ".field-product").text
            state = row.find_element(By.CSS_SELECTOR, ".field-state").text
            quantity = row.find_element(By.CSS_SELECTOR, ".field-quantity").text
            levels[(product, state)] = int(quantity)
        return levels, self.text("#stock-totals")


@pytest.fixture
def browser(driver, live_server, _browser_dirs, request):
    driver.delete_all_cookies()
    for leftover in _browser_dirs["downloads"].iterdir():
        leftover.unlink()
    return Browser(
        driver,
        live_server.url,
        _browser_dirs["downloads"],
        _browser_dirs["evidence"],
        request.node.name,
    )


# --- Settings and data -------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _tasks_run_in_process():
    """Export jobs are built inline (in the live server's thread), as without REDIS_URL."""
    from hsh_admin.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _server_connections_close_after_each_request(monkeypatch):
    """The live server answers Chrome's keep-alive connections in threads that outlive the
    test; with CONN_MAX_AGE their database sessions would too, and block dropping the
    test database. Close each one when its request ends. (Not on SQLite: there the live
    server's threads share the test's in-memory connection, which they may not close.)"""
    from django.db import connection

    if connection.vendor != "sqlite":
        monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)


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
    assert "2 x 12.7KG at 3000.00 = 6000.00 (1 empties received)" in lines, browser.evidence()
    assert "Total: 6000.00" in lines, browser.evidence()
    assert "Nothing has been written yet" in browser.text("#content-main"), browser.evidence()
    assert not Transaction.objects.exists(), "the preview posted the sale"

    browser.press("_confirm")
    sale = Transaction.objects.get()
    assert (sale.status, sale.total_amount, sale.created_by) == (
        "POSTED",
        Decimal("6000.00"),
        manager,
    )
    assert f"{sale.number} posted: 6000.00 from {customer.code}." in browser.messages(), (
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
    # The preview marks each changed cell as a diff: read the new values (without <del>).
    preview = browser.driver.execute_script(
        """return Array.from(document.querySelectorAll('table.import-preview tbody tr'),
            row => [row.className, ...Array.from(row.querySelectorAll('td:not(.import-type)'),
                cell => { const c = cell.cloneNode(true);
                          c.querySelectorAll('del').forEach(d => d.remove());
                          return c.textContent.trim(); })]);"""
    )
    assert preview == [
        ["update", changed.code, changed.name, "", "2450.00", "3100.00", "", "", "", ""],
        ["skip", unchanged.code, unchanged.name, "", "2200.00", "3000.00", "", "", "", ""],
    ], browser.evidence()
    # The preview is a dry run: nothing is written until it is confirmed.
    assert Rate.objects.count() == rates_before
    assert not RateImport.objects.exists()
    assert rate_in_force(customer=changed, product=products["9KG"]) == Decimal("2200.00")

    browser.click_and_load(confirm)
    assert "/admin/sales/ratetable/" in browser.driver.current_url, browser.evidence()
    batch = RateImport.objects.get()
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
    assert "2450.00" in row.text, browser.evidence()
    assert "3100.00" in row.text, browser.evidence()


# --- 5. Exporting a report ---------------------------------------------------------------


def downloaded_file(browser, suffix):
    """Wait for Chrome to finish a download into the download directory; return its path."""

    def finished(_driver):
        files = [p for p in browser.downloads.iterdir() if not p.name.endswith(".crdownload")]
        done = [p for p in files if p.name.endswith(suffix) and p.stat().st_size > 0]
        return done[0] if done else False

    return browser.wait(finished, f"a downloaded {suffix} file in {browser.downloads}")


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

    browser.click_and_load(browser.driver.find_element(By.LINK_TEXT, "CSV in the background"))
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
    path = downloaded_file(browser, ".csv")
    assert path.name == Path(job.file.name).name
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows[0][:3] == ["date", "number", "status"], rows[0]
    assert len(rows) == 2, rows
    sale_row = dict(zip(rows[0], rows[1], strict=True))
    assert sale_row["number"] == posted_sale.number
    assert (sale_row["status"], sale_row["product"]) == ("POSTED", "12.7KG")
    assert Decimal(sale_row["quantity"]) == 2
    assert Decimal(sale_row["amount"]) == Decimal("6000.00")
