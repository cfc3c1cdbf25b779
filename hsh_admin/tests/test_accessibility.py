"""axe-core over the 20 main admin pages, as head office with a little data (a sale, a
payment, a load sheet): no serious or critical violation on any of them.

One test visits every page and reports all the pages that fail at once, each with its
rules and elements, so one run shows the whole list."""

from decimal import Decimal

import pytest

from sales.services import payment_record, sale_post

pytestmark = [
    pytest.mark.browser,
    pytest.mark.axe,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def documents(customer_factory, loaded_vehicle, products, head_office):
    customer = customer_factory(payment_type="CREDIT", credit_limit=Decimal("100000"))
    sale = sale_post(
        customer=customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 2, "empties_returned": 1}],
    )
    payment = payment_record(customer=customer, amount="2500.00", actor=head_office)
    return {"customer": customer, "sale": sale, "payment": payment}


def main_pages(documents) -> list[tuple[str, str]]:
    sale, payment, customer = documents["sale"], documents["payment"], documents["customer"]
    return [
        ("dashboard", "/admin/"),
        ("sales list", "/admin/sales/transaction/"),
        ("a sale", f"/admin/sales/transaction/{sale.pk}/change/"),
        ("new sale", "/admin/sales/transaction/add/"),
        ("payments list", "/admin/sales/payment/"),
        ("a payment", f"/admin/sales/payment/{payment.pk}/change/"),
        ("customers list", "/admin/sales/customer/"),
        ("a customer", f"/admin/sales/customer/{customer.pk}/change/"),
        ("rate table", "/admin/sales/ratetable/"),
        ("rate import", "/admin/sales/ratetable/import/"),
        ("stock levels", "/admin/stock/stocklevel/"),
        ("load sheet", "/admin/stock/distribution/load-sheet/"),
        ("count sheet", "/admin/stock/stockcount/add/"),
        ("distributions list", "/admin/stock/distribution/"),
        ("cylinder returns", "/admin/sales/cylinderreturn/"),
        ("reports", "/admin/reports/"),
        ("a report", "/admin/reports/sales-register/"),
        ("export jobs", "/admin/reporting/exportjob/"),
        ("schedules", "/admin/reporting/reportschedule/"),
        ("audit log", "/admin/core/auditlog/"),
        ("users", "/admin/core/user/"),
    ]


def test_the_main_pages_have_no_serious_or_critical_axe_violation(browser, documents):
    browser.login("headoffice")
    browser.wait_for("#user-tools", "head office to be logged in")
    failures = {}
    for name, path in main_pages(documents):
        browser.go(path)
        browser.wait_for("#content", f"the {name} page")
        title = browser.driver.title
        assert "Server Error" not in title, f"{name} ({path}): {title}. {browser.evidence()}"
        assert "Page not found" not in title, f"{name} ({path}). {browser.evidence()}"
        found = browser.axe_violations()
        if found:
            failures[f"{name} ({path})"] = [
                f"{v['impact']} {v['id']} at {v['nodes']}" for v in found
            ]
    browser.go("/admin/")
    browser.screenshot("dashboard-accessibility")
    assert not failures, "axe-core violations:\n" + "\n".join(
        f"- {page}: {'; '.join(rules)}" for page, rules in failures.items()
    )
