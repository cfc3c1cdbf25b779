"""Reports, export jobs, schedules and a statement in a real browser: a report whose row
opens its sale, an Excel export built in the background, a schedule made with pickers
and run at once, and a customer's statement. Each page is screenshot, and the report,
the export job and the schedule form are checked with axe-core."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from reporting.models import ExportJob, JobStatus, ReportSchedule
from sales.services import sale_post

pytestmark = [
    pytest.mark.browser,
    pytest.mark.axe,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def credit_sale(customer_factory, loaded_vehicle, products):
    """2 full 12.7KG sold on credit to C001: 6000.00."""
    return sale_post(
        customer=customer_factory(payment_type="CREDIT", rates={"12.7KG": "3000.00"}),
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 2}],
    )


def test_a_report_from_the_side_bar_drills_down_to_its_sale(browser, head_office, credit_sale):
    browser.login("headoffice")
    browser.go("/admin/reporting/exportjob/")  # any page with the side bar
    side = browser.wait_for("#nav-reports", "the side bar's reports")
    assert "Sales register" in side.text, browser.evidence()
    browser.click_and_load(side.find_element(By.LINK_TEXT, "Sales register"))
    table = browser.wait_for("#report-table", "the sales register").text
    assert credit_sale.number in table, browser.evidence()
    assert "Total (all pages)" in table, browser.evidence()
    assert "6,000.00" in table, browser.evidence()
    assert "Posted" in table, browser.evidence()  # the status by its label, not POSTED
    paging = browser.find("nav.report-paging").text
    assert "Previous" in paging, browser.evidence()
    assert "Next" in paging, browser.evidence()
    browser.screenshot("report")
    browser.assert_accessible()

    browser.click_and_load(browser.driver.find_element(By.LINK_TEXT, credit_sale.number))
    assert f"/admin/sales/transaction/{credit_sale.pk}/change/" in browser.driver.current_url, (
        browser.evidence()
    )
    assert credit_sale.number in browser.text("#content"), browser.evidence()

    # A filter the report does not take is refused in a sentence, not ignored.
    browser.go("/admin/reports/receivables/?product=12.7KG")
    refusal = browser.wait_for("#report-refusal", "the refusal").text
    assert "Receivables cannot be filtered by Product." in refusal, browser.evidence()


def test_an_excel_export_is_built_in_the_background_and_its_page_says_so(
    browser, manager, credit_sale
):
    browser.login("northmanager")
    browser.go("/admin/reports/sales-summary/?group_by=sales_rep")
    browser.wait_for("#report-table", "the sales summary")
    button = "//button[normalize-space()='Excel in the background']"  # a POST form, not a link
    browser.click_and_load(browser.driver.find_element(By.XPATH, button))
    job = ExportJob.objects.get()
    assert (job.report, job.format) == ("sales-summary", "xlsx")
    state = browser.wait(
        EC.text_to_be_present_in_element((By.ID, "job-state"), "Ready"), "the export to be ready"
    )
    assert state
    page = browser.text("#content")
    assert "Being built" not in page, browser.evidence()
    assert "Group by representative" in page, browser.evidence()  # filters in words
    assert "{" not in browser.text("#content-main"), browser.evidence()  # no JSON
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert browser.driver.find_element(By.LINK_TEXT, "Download the file"), browser.evidence()
    browser.screenshot("export-job")
    browser.assert_accessible()


def test_a_schedule_is_made_with_pickers_and_run_now(browser, manager, credit_sale):
    browser.login("northmanager")
    browser.go("/admin/reporting/reportschedule/add/")
    report = browser.wait_for("#id_report", "the report picker")
    Select(report).select_by_visible_text("Receivables")  # reloads with its filters
    browser.wait(
        lambda d: "report=receivables" in d.current_url, "the form to show Receivables' filters"
    )
    browser.wait_for("#id_filter_depot", "the depot filter")
    assert not browser.find_all("#id_filter_sales_rep"), browser.evidence()  # not Receivables'
    assert not browser.find_all("#id_minute"), browser.evidence()  # no cron fields
    browser.find("#id_name").send_keys("Monday receivables")
    browser.find("#id_recipients").send_keys("boss@example.lk")
    Select(browser.find("#id_format")).select_by_visible_text("Excel (XLSX)")
    Select(browser.find("#id_frequency")).select_by_visible_text("Every week")
    Select(browser.find("#id_weekday")).select_by_visible_text("Monday")
    at = browser.find("#id_at")
    browser.driver.execute_script("arguments[0].value = '07:30'", at)
    Select(browser.find("#id_filter_depot")).select_by_visible_text("NORTH")
    browser.assert_accessible()
    browser.click_and_load(browser.find("input[name=_continue]"))

    schedule = ReportSchedule.objects.get()
    assert (schedule.minute, schedule.hour, schedule.day_of_week) == ("30", "7", "1")
    assert schedule.filters == {"depot": "NORTH"}
    summary = browser.wait_for("#schedule-summary", "the schedule's summary").text
    assert "Every Monday at 07:30" in summary, browser.evidence()
    runs = [li.text for li in browser.find_all("#next-runs li")]
    assert len(runs) == 5, browser.evidence()
    assert all("07:30" in run for run in runs), runs
    browser.screenshot("schedule")

    browser.click_and_load(browser.find("#run-now"))
    job = ExportJob.objects.get()
    assert job.schedule == schedule
    browser.wait(
        EC.text_to_be_present_in_element((By.ID, "job-state"), "Ready"), "the run to be built"
    )
    assert [m.to for m in mail.outbox] == [["boss@example.lk"]]


def test_a_customers_statement_page(browser, head_office, credit_sale):
    browser.login("headoffice")
    today = timezone.localdate()
    start = (today - timedelta(days=31)).isoformat()
    browser.go(
        f"/admin/billing/customers/{credit_sale.customer_id}/statement/"
        f"?date_from={start}&date_to={today.isoformat()}"
    )
    page = browser.wait_for(".hsh-statement", "the statement").text
    assert "Balance brought forward" in page, browser.evidence()
    assert credit_sale.number in page, browser.evidence()
    assert "6,000.00" in page, browser.evidence()
    browser.screenshot("statement")
