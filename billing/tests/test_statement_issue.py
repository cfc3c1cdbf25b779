"""statement_issue: the CustomerStatement with its balances, its e-mail in the outbox when
the customer takes documents by e-mail, the audit entry; a bad period or actor writes
nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import CustomerStatement, StatementRun
from billing.services import statement_issue
from core.models import AuditLog, OutboxKind, OutboxMessage

pytestmark = pytest.mark.django_db

pytest_plugins = ["billing.tests.render_fixtures"]


def _period():
    today = timezone.localdate()
    return today - timedelta(days=30), today


def _written():
    return (
        CustomerStatement.objects.count(),
        OutboxMessage.objects.filter(kind=OutboxKind.STATEMENT).count(),
        AuditLog.objects.filter(action="statement_issued").count(),
    )


def test_a_statement_is_issued_with_its_balances_e_mailed_and_audited(
    credit_sale, payment, head_office
):
    customer = credit_sale.customer
    customer.email = "accounts@harbour.example"
    customer.save(update_fields=["email"])
    date_from, date_to = _period()

    issued = statement_issue(
        customer=customer, date_from=date_from, date_to=date_to, actor=head_office
    )

    issued.refresh_from_db()
    assert issued.opening_balance == Decimal("0.00")
    assert issued.closing_balance == credit_sale.total_amount - payment.amount
    assert (issued.date_from, issued.date_to) == (date_from, date_to)
    assert issued.emailed_to == "accounts@harbour.example"
    assert issued.created_by == head_office
    assert issued.run is None
    message = OutboxMessage.objects.get(kind=OutboxKind.STATEMENT)
    assert (message.number, message.to) == (issued.number, "accounts@harbour.example")
    assert message.document_type == "billing.CustomerStatement"
    assert message.document_id == issued.pk
    entry = AuditLog.objects.get(action="statement_issued")
    assert entry.actor == head_office
    assert entry.object_id == str(issued.pk)
    assert entry.data["closing_balance"] == str(issued.closing_balance)
    assert entry.data["emailed_to"] == "accounts@harbour.example"


def test_paper_customers_and_customers_without_an_address_are_not_e_mailed(
    customer_factory, head_office
):
    paper = customer_factory("CREDIT", email="paper@harbour.example", email_invoices=False)
    no_address = customer_factory("CREDIT", email="")
    date_from, date_to = _period()
    for customer in (paper, no_address):
        issued = statement_issue(
            customer=customer, date_from=date_from, date_to=date_to, actor=head_office
        )
        assert issued.emailed_to == ""
    assert _written() == (2, 0, 2)


def test_email_false_issues_a_paper_statement(customer_factory, head_office):
    customer = customer_factory("CREDIT", email="a@harbour.example")
    date_from, date_to = _period()
    issued = statement_issue(
        customer=customer, date_from=date_from, date_to=date_to, actor=head_office, email=False
    )
    assert issued.emailed_to == ""
    assert _written() == (1, 0, 1)


def test_a_period_that_ends_before_it_begins_writes_nothing(customer_factory, head_office):
    customer = customer_factory("CREDIT", email="a@harbour.example")
    today = timezone.localdate()
    with pytest.raises(ValidationError) as refused:
        statement_issue(
            customer=customer,
            date_from=today,
            date_to=today - timedelta(days=1),
            actor=head_office,
        )
    assert refused.value.error_dict["date_to"][0].code == "statement_period_reversed"
    assert _written() == (0, 0, 0)


def test_a_manager_issues_their_depots_statements_only(customer_factory, manager, south, sales_rep):
    own = customer_factory("CREDIT", email="")
    other = customer_factory("CREDIT", email="", depot=south)
    date_from, date_to = _period()
    assert statement_issue(customer=own, date_from=date_from, date_to=date_to, actor=manager)
    with pytest.raises(PermissionDenied, match="does not work for depot SOUTH"):
        statement_issue(customer=other, date_from=date_from, date_to=date_to, actor=manager)
    with pytest.raises(PermissionDenied, match="sales representative"):
        statement_issue(customer=own, date_from=date_from, date_to=date_to, actor=sales_rep)
    assert _written() == (1, 0, 1)


def test_no_actor_is_refused_outside_a_scheduled_run(customer_factory, head_office):
    customer = customer_factory("CREDIT", email="")
    date_from, date_to = _period()
    with pytest.raises(PermissionDenied):
        statement_issue(customer=customer, date_from=date_from, date_to=date_to, actor=None)
    requested = StatementRun.objects.create(
        month=date_from.replace(day=1), requested_by=head_office
    )
    with pytest.raises(PermissionDenied):
        statement_issue(
            customer=customer, date_from=date_from, date_to=date_to, actor=None, run=requested
        )
    assert _written() == (0, 0, 0)


def test_a_scheduled_run_issues_without_an_actor_and_without_an_audit_entry(customer_factory):
    customer = customer_factory("CREDIT", email="a@harbour.example")
    date_from, date_to = _period()
    scheduled = StatementRun.objects.create(month=date_from.replace(day=1))
    issued = statement_issue(
        customer=customer, date_from=date_from, date_to=date_to, actor=None, run=scheduled
    )
    assert issued.created_by is None
    assert issued.run == scheduled
    assert _written() == (1, 1, 0)


def test_one_statement_per_run_and_customer(customer_factory, head_office):
    customer = customer_factory("CREDIT", email="a@harbour.example")
    date_from, date_to = _period()
    run = StatementRun.objects.create(month=date_from.replace(day=1), requested_by=head_office)
    statement_issue(
        customer=customer, date_from=date_from, date_to=date_to, actor=head_office, run=run
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        statement_issue(
            customer=customer, date_from=date_from, date_to=date_to, actor=head_office, run=run
        )
    assert _written() == (1, 1, 1)


def test_the_balances_issued_are_statement_builds(credit_sale, payment, head_office):
    from billing.services import statement_build

    customer = credit_sale.customer
    today = timezone.localdate()
    for date_from, date_to in ((today, today), (today - timedelta(days=400), today)):
        built = statement_build(customer=customer, date_from=date_from, date_to=date_to)
        issued = statement_issue(
            customer=customer, date_from=date_from, date_to=date_to, actor=head_office
        )
        assert (issued.opening_balance, issued.closing_balance) == (
            built.opening_balance,
            built.closing_balance,
        )
        assert issued.date_to == built.date_to
    assert issued.closing_balance == credit_sale.total_amount - payment.amount
