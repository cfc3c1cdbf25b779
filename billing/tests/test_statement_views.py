"""The customer's statement in the admin (billing.statement_views): on screen for a period
(by default last month and this one so far), as a PDF, and e-mailed (one CustomerStatement
and one outbox message); a bad period names its field and writes nothing; managers see
their depots' customers only; the customer's page links to it."""

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from billing.models import CustomerStatement
from billing.statement_views import default_period
from billing.tests.posting_clock import moment
from core.models import OutboxKind, OutboxMessage

pytestmark = pytest.mark.django_db
pytest_plugins = ["billing.tests.statement_fixtures"]
HOST = {"HTTP_HOST": "127.0.0.1"}


@pytest.fixture
def admin_client(client, head_office):
    client.force_login(head_office)
    return client


def url(customer, **query):
    base = reverse("billing:customer_statement", args=[customer.pk])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def period(days_from, days_to=0):
    today = timezone.localdate()
    return {
        "date_from": (today - timedelta(days=days_from)).isoformat(),
        "date_to": (today - timedelta(days=days_to)).isoformat(),
    }


def nothing_written():
    return (
        not CustomerStatement.objects.exists()
        and not OutboxMessage.objects.filter(kind=OutboxKind.STATEMENT).exists()
    )


def test_default_period_is_last_month_and_this_one_so_far():
    from datetime import date

    assert default_period(date(2026, 11, 30)) == (date(2026, 10, 1), date(2026, 11, 30))
    assert default_period(date(2026, 1, 5)) == (date(2025, 12, 1), date(2026, 1, 5))


def test_the_statement_shows_on_screen_for_the_default_period(admin_client, ledger):
    sale = ledger.sale(moment(1), quantity=2)
    payment = ledger.pay("1500.00", moment(0, hour=0))
    response = admin_client.get(url(ledger.customer), **HOST)
    assert response.status_code == 200
    page = response.content.decode()
    date_from, date_to = default_period()
    assert f'value="{date_from.isoformat()}"' in page
    assert f"{date_from:%-d %b %Y} to {date_to:%-d %b %Y}" in page
    assert "Balance brought forward" in page
    assert f"Tax invoice {sale.number}" in page
    assert f"Payment received {payment.number}" in page
    assert "6,000.00" in page
    assert "Amount due: 4,500.00" in page
    assert "Current (0 to 30 days)" in page
    assert "Download PDF" in page
    assert "E-mail to accounts@harbour.example" in page
    assert nothing_written()


def test_a_chosen_period_leaves_out_what_came_before_it(admin_client, ledger):
    old = ledger.sale(moment(40))
    new = ledger.sale(moment(3))
    page = admin_client.get(url(ledger.customer, **period(10)), **HOST).content.decode()
    assert new.number in page
    assert old.number not in page
    assert "3,000.00" in page  # brought forward


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        (period(0, 5) | {}, "date_to", "before it begins"),
        ({"date_from": "2099-01-01", "date_to": "2099-01-31"}, "date_from", "in the future"),
        ({"date_from": "yesterday", "date_to": "2026-11-30"}, "date_from", "not a date"),
        ({"date_from": "2026-11-01", "date_to": "2026-13-45"}, "date_to", "not a date"),
        ({"date_from": "", "date_to": "2026-11-30"}, "date_from", "Give the first day"),
        ({"date_from": "2026-11-01"}, "date_to", "Give the last day"),
    ],
)
def test_a_bad_period_names_its_field_and_writes_nothing(
    admin_client, ledger, query, field, message
):
    for name in ("billing:customer_statement", "billing:customer_statement_pdf"):
        response = admin_client.get(reverse(name, args=[ledger.customer.pk]), query, **HOST)
        assert response.status_code == 400
        form = response.context["form"]
        assert message in " ".join(form.errors[field])
        assert message in response.content.decode()
    response = admin_client.post(url(ledger.customer), query, **HOST)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert nothing_written()


def test_the_far_ends_of_the_calendar_show_a_statement_to_today(admin_client, ledger):
    ledger.sale(moment(2))
    query = {"date_from": "0001-01-01", "date_to": "9999-12-31"}
    response = admin_client.get(url(ledger.customer), query, **HOST)
    assert response.status_code == 200
    assert response.context["statement"].date_to == timezone.localdate()
    assert "Amount due: 3,000.00" in response.content.decode()
    pdf = reverse("billing:customer_statement_pdf", args=[ledger.customer.pk])
    assert admin_client.get(pdf, query, **HOST).status_code == 200
    assert admin_client.post(url(ledger.customer), query, **HOST).status_code == 302
    issued = CustomerStatement.objects.get()
    assert issued.date_to == timezone.localdate()  # issued to today, as it reads


def test_the_pdf_downloads_for_the_same_period(admin_client, ledger):
    sale = ledger.sale(moment(2))
    query = period(5)
    response = admin_client.get(
        reverse("billing:customer_statement_pdf", args=[ledger.customer.pk]), query, **HOST
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert (
        f"statement-S001-{query['date_from'].replace('-', '')}" in response["Content-Disposition"]
    )
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert sale.number in text
    assert "STATEMENT OF ACCOUNT" in text
    assert nothing_written()


def test_e_mailing_writes_one_statement_and_one_message(admin_client, ledger, head_office):
    ledger.sale(moment(2))
    query = period(5)
    response = admin_client.post(url(ledger.customer), query, **HOST)
    assert response.status_code == 302
    assert response["Location"].startswith(url(ledger.customer))
    issued = CustomerStatement.objects.get()
    assert (issued.customer, issued.emailed_to, issued.created_by) == (
        ledger.customer,
        "accounts@harbour.example",
        head_office,
    )
    assert issued.date_from.isoformat() == query["date_from"]
    assert issued.closing_balance == 3000
    message = OutboxMessage.objects.get(kind=OutboxKind.STATEMENT)
    assert (message.number, message.to) == (issued.number, "accounts@harbour.example")
    page = admin_client.get(response["Location"], **HOST).content.decode()
    assert f"Statement {issued.number}" in page
    assert "on its way to accounts@harbour.example" in page


def test_a_customer_without_an_address_cannot_be_e_mailed(admin_client, ledger):
    from sales.services import customer_update

    customer_update(customer=ledger.customer, actor=ledger.boss, data={"email": ""})
    ledger.customer.refresh_from_db()
    page = admin_client.get(url(ledger.customer), **HOST).content.decode()
    assert "has no e-mail address" in page
    assert "E-mail to" not in page
    assert "disabled" in page
    response = admin_client.post(url(ledger.customer), period(5), **HOST)
    assert response.status_code == 400
    assert "nothing sent" in response.content.decode()
    assert nothing_written()


def test_a_manager_sees_their_depots_customers_only(
    client, manager, south, ledger, customer_factory
):
    client.force_login(manager)
    assert client.get(url(ledger.customer), **HOST).status_code == 200
    elsewhere = customer_factory("CREDIT", depot=south)
    for name in ("billing:customer_statement", "billing:customer_statement_pdf"):
        assert client.get(reverse(name, args=[elsewhere.pk]), **HOST).status_code == 404
    assert client.post(url(elsewhere), period(5), **HOST).status_code == 404
    assert (
        client.get(reverse("billing:customer_statement", args=[999999]), **HOST).status_code == 404
    )
    response = client.post(url(ledger.customer), period(5), **HOST)
    assert response.status_code == 302  # a manager issues their own customers' statements
    assert CustomerStatement.objects.get().customer == ledger.customer


def test_anonymous_and_sales_are_sent_to_login(client, sales_rep, ledger):
    assert client.get(url(ledger.customer), **HOST).status_code == 302
    client.force_login(sales_rep)
    response = client.post(url(ledger.customer), period(5), **HOST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert nothing_written()


def test_the_customers_page_links_to_the_statement(admin_client, ledger):
    page = admin_client.get(
        reverse("admin:sales_customer_change", args=[ledger.customer.pk]), **HOST
    ).content.decode()
    assert url(ledger.customer) in page
    assert ">Statement<" in page


def test_a_customer_who_chose_paper_is_not_e_mailed(admin_client, ledger):
    from sales.services import customer_update

    customer_update(customer=ledger.customer, actor=ledger.boss, data={"email_invoices": False})
    page = admin_client.get(url(ledger.customer), **HOST).content.decode()
    assert "chose paper" in page
    assert "E-mail to" not in page
    assert admin_client.post(url(ledger.customer), period(5), **HOST).status_code == 400
    assert nothing_written()


@pytest.fixture
def clerk(user_factory, north):
    """A depot clerk with staff access who may view customers only (no statements)."""
    from django.contrib.auth.models import Permission

    user = user_factory("MANAGER", depots=[north], username="clerk")
    user.groups.clear()
    user.user_permissions.add(Permission.objects.get(codename="view_customer"))
    return user


def test_who_may_view_customers_sees_the_statement_but_may_not_e_mail_it(client, clerk, ledger):
    client.force_login(clerk)
    page = client.get(url(ledger.customer), **HOST)
    assert page.status_code == 200
    assert "E-mail to" not in page.content.decode()
    assert client.post(url(ledger.customer), period(5), **HOST).status_code == 403
    assert nothing_written()


def test_who_may_not_view_customers_sees_no_statement(client, clerk, ledger, issued_today):
    clerk.user_permissions.clear()
    client.force_login(clerk)
    assert client.get(url(ledger.customer), **HOST).status_code == 403
    pdf = reverse("billing:issued_statement_pdf", args=[issued_today.pk])
    assert client.get(pdf, **HOST).status_code == 403


@pytest.fixture
def issued_today(ledger, head_office):
    from billing.services import statement_issue

    day = timezone.localdate()
    return statement_issue(customer=ledger.customer, date_from=day, date_to=day, actor=head_office)
