"""The browser tests' helper: the driver with the few moves they make, the evidence they
leave (screenshots into the artefacts folder) and the accessibility check (axe-core).

The fixtures that build it (`driver`, `browser`) are in hsh_admin/tests/conftest.py.
Screenshots go to $BROWSER_ARTEFACTS (default: artefacts/browser/ at the project root),
which CI keeps; axe-core comes from npm (package.json, `npm ci`).
"""

import json
import os
import re
from pathlib import Path

from selenium.common.exceptions import (
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT_SECONDS = 15
PASSWORD = "correct-horse-battery"  # the root conftest's user_factory default
ROOT = Path(__file__).resolve().parents[2]
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# What a page may not have: axe's two worst impacts.
AXE_BLOCKING = ("serious", "critical")


def artefacts_dir() -> Path:
    """Where screenshots are kept for people to look at (CI's artefacts folder)."""
    path = Path(os.environ.get("BROWSER_ARTEFACTS") or ROOT / "artefacts" / "browser")
    path.mkdir(parents=True, exist_ok=True)
    return path


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

    # Evidence

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

    def screenshot(self, label: str, *, full_page: bool = True) -> Path:
        """Keep a screenshot of the page as it is now in the artefacts folder, named after
        the test and `label`; return its path. With full_page the window grows to the
        page's height first (and shrinks back after), so nothing below the fold is lost."""
        safe_label = re.sub(r"[^\w.-]+", "_", label)
        path = artefacts_dir() / f"{self.name}--{safe_label}.png"
        size = self.driver.get_window_size()
        try:
            if full_page:
                height = self.driver.execute_script(
                    "return Math.max(document.body.scrollHeight,"
                    " document.documentElement.scrollHeight)"
                )
                self.driver.set_window_size(size["width"], min(max(height, 600), 8000))
            self.driver.save_screenshot(str(path))
        finally:
            if full_page:
                self.driver.set_window_size(size["width"], size["height"])
        return path

    # Accessibility

    def axe_violations(self, impacts=AXE_BLOCKING) -> list[dict]:
        """Run axe-core over the page as it is now; return the violations whose impact is
        one of `impacts`, each as {"id", "impact", "help", "nodes": [css targets]}."""
        if not AXE_SCRIPT.exists():
            raise AssertionError(f"axe-core is not installed ({AXE_SCRIPT}): run `npm ci`")
        if not self.driver.execute_script("return typeof window.axe !== 'undefined'"):
            self.driver.execute_script(AXE_SCRIPT.read_text(encoding="utf-8"))
        result = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']})"
            ".then(r => done(JSON.stringify(r.violations)))"
            ".catch(e => done(JSON.stringify({error: String(e)})));"
        )
        violations = json.loads(result)
        if isinstance(violations, dict):
            raise AssertionError(f"axe-core failed on {self.driver.current_url}: {violations}")
        return [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [", ".join(map(str, n["target"])) for n in v["nodes"]][:5],
            }
            for v in violations
            if v.get("impact") in impacts
        ]

    def assert_accessible(self):
        """No serious or critical axe-core violation on the page as it is now."""
        found = self.axe_violations()
        assert not found, (
            f"axe-core on {self.driver.current_url}: "
            + "; ".join(f"{v['impact']} {v['id']} ({v['help']}) at {v['nodes']}" for v in found)
            + f". {self.evidence()}"
        )

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

    def downloaded_file(self, suffix):
        """Wait for Chrome to finish a download into the download directory; return it."""

        def finished(_driver):
            files = [p for p in self.downloads.iterdir() if not p.name.endswith(".crdownload")]
            done = [p for p in files if p.name.endswith(suffix) and p.stat().st_size > 0]
            return done[0] if done else False

        return self.wait(finished, f"a downloaded {suffix} file in {self.downloads}")
