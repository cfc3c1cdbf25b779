"""Every main list fits a 1366 px wide window: the table (#result_list) is no wider than
the page, the page does not scroll sideways, and the key columns (number, customer, total,
paid, status) are on screen without scrolling."""

from decimal import Decimal

import pytest

from sales.services import payment_record, sale_post, sale_void

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WIDTH = 1366

# list -> words of the key columns' headings (number, customer, total, paid, status) a
# clerk must see without scrolling; each matches a heading that contains it.
LISTS = {
    "/admin/sales/transaction/": ["sale", "customer", "total", "paid", "status"],
    "/admin/sales/payment/": ["payment", "customer", "amount", "status"],
    "/admin/sales/customer/": ["customer", "balance"],
    "/admin/sales/ratetable/": ["account number", "name", "12.7 kg rate"],
    "/admin/sales/creditnote/": ["credit note", "customer", "sale"],
    "/admin/sales/cylinderreturn/": ["number", "customer"],
    "/admin/sales/cashup/": ["number"],
    "/admin/stock/stocklevel/": ["product", "state", "quantity"],
    "/admin/stock/distribution/": ["number"],
    "/admin/stock/transfer/": ["number"],
    "/admin/stock/stockcount/": ["number"],
    "/admin/reporting/exportjob/": [],
    "/admin/reporting/reportschedule/": [],
    "/admin/core/auditlog/": [],
    "/admin/core/user/": ["username"],
}


@pytest.fixture
def documents(customer_factory, loaded_vehicle, products, head_office):
    customer = customer_factory(payment_type="CREDIT", credit_limit=Decimal("100000"))
    customer.name = "Lanka Hospitality and Catering Services (Private) Limited, Colombo"
    customer.save(update_fields=["name"])
    for _ in range(2):
        sale = sale_post(
            customer=customer,
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[{"product": products["12.7KG"], "quantity": 2, "empties_returned": 1}],
        )
    sale_void(transaction=sale, actor=head_office, reason="keyed twice")
    payment_record(customer=customer, amount="2500.00", actor=head_office)


def measure(browser, words):
    return browser.driver.execute_script(
        """const table = document.getElementById('result_list');
        const headings = Array.from(document.querySelectorAll('#result_list thead th'),
            th => [th.textContent.trim().toLowerCase(), th.getBoundingClientRect()]);
        const visible = (word) => {
            const found = headings.find(([text]) => text.includes(word));
            if (!found) return 'missing (headings: ' + headings.map(h => h[0]).join(' | ') + ')';
            const box = found[1];
            return box.right <= window.innerWidth + 1 && box.width > 0 ? 'ok' : 'off screen';
        };
        return {
            page: document.documentElement.scrollWidth,
            table: table ? table.getBoundingClientRect().right : null,
            columns: Object.fromEntries(arguments[0].map(w => [w, visible(w)])),
        };""",
        words,
    )


def test_the_main_lists_fit_1366_px(browser, documents):
    size = browser.driver.get_window_size()
    browser.driver.set_window_size(WIDTH, 900)
    try:
        width = browser.driver.execute_script("return window.innerWidth")
        assert width <= WIDTH
        browser.login("headoffice")
        browser.wait_for("#user-tools", "head office to be logged in")
        failures = []
        for path, columns in LISTS.items():
            browser.go(path)
            browser.wait_for("#changelist", f"the list {path}")
            found = measure(browser, columns if browser.find_all("#result_list") else [])
            if found["page"] > WIDTH:
                failures.append(f"{path}: the page is {found['page']} px wide")
            if found["table"] is not None and found["table"] > width + 1:
                failures.append(f"{path}: the table ends at {found['table']:.0f} px")
            failures += [
                f"{path}: column {column} {state}"
                for column, state in found["columns"].items()
                if state != "ok"
            ]
        browser.go("/admin/sales/transaction/")
        browser.screenshot("sales-list-1366")
    finally:
        browser.driver.set_window_size(size["width"], size["height"])
    assert not failures, "Lists wider than 1366 px:\n" + "\n".join(failures)
