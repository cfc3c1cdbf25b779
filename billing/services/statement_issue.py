"""Issuing a statement: the record that a customer was given their statement of a period
(billing.CustomerStatement), its e-mail in the outbox, and the audit entry, in one
transaction. The statement's balances are read (statement_balances: statement_build's
opening and closing balance, without its entries and ageing, which the PDF needs and the
record does not: two queries instead of seven, which a run of thousands feels); the PDF is rendered
again from the documents whenever it is sent or printed, and reads the same, since the
documents of a past period never change.

Who is e-mailed. A statement is an account document, like the invoices, credit notes and
receipts it lists, so it follows the same choice: the customer's "e-mail documents"
(Customer.email_invoices) with an address (Customer.documents_by_email). A customer who
chose paper gets their statement on paper too (the CustomerStatement is still written,
with no e-mail address, and is printed from the admin); sending them by e-mail the one
document that sums up their account would go against what they asked for.
"""

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from billing.models import CustomerStatement, StatementRun
from billing.services.statements import (
    EARLIEST,
    balance_at,
    business_day,
    day_start,
    statement_end,
    statement_period_check,
)
from core.models import OutboxKind, Role, User
from core.scoping import actor_access_check
from core.services import audit_record, outbox_enqueue
from sales.models import Customer

STATEMENT_ISSUED = "statement_issued"


def statement_issue_check(*, actor: User, customer: Customer) -> None:
    """Refuse an actor who may not issue `customer`'s statement: head office issues any
    customer's, a manager their depots' customers'; a sales representative none."""
    if actor.role == Role.SALES and not actor.is_superuser:
        raise PermissionDenied(
            f"{actor.username} is a sales representative; statements are issued by head "
            "office or the depot's manager."
        )
    actor_access_check(actor=actor, depot=customer.depot)


def statement_email_to(customer: Customer) -> str:
    """Where `customer`'s statement is e-mailed; empty (paper) when they have no address
    or chose paper for their documents."""
    return customer.email.strip() if customer.documents_by_email else ""


def statement_balances(
    *, customer: Customer, date_from: date, date_to: date, until: datetime | None = None
) -> tuple[date, Decimal, Decimal]:
    """(date_to, opening balance, closing balance) of the statement statement_build gives
    for this period, read as it reads them (the same period check and refusals; a period
    ending after today ends today): the closing balance is every document before the
    period's end, which is the opening balance plus the period's entries."""
    statement_period_check(date_from=date_from, date_to=date_to)
    date_to = min(date_to, business_day(timezone.now()))
    start = day_start(max(date_from, EARLIEST))
    end = statement_end(date_to, until)
    return (
        date_to,
        balance_at(customer=customer, before=start),
        balance_at(customer=customer, before=end),
    )


@transaction.atomic
def statement_issue(
    *,
    customer: Customer,
    date_from: date,
    date_to: date,
    actor: User | None,
    run: StatementRun | None = None,
    email: bool = True,
) -> CustomerStatement:
    """Issue `customer`'s statement of `date_from`..`date_to` (both days included): the
    CustomerStatement with its opening and closing balance, its e-mail in the outbox (when
    `email` and the customer takes documents by e-mail: emailed_to names the address), and
    an audit entry "statement_issued". A bad period is refused as statement_build
    refuses it (ValidationError keyed by date_from / date_to) and nothing is written.

    `run`: the monthly run issuing it (unique per run and customer: a second issue for
    the same run raises IntegrityError, which the run treats as "already done").
    `actor`: who issues it (head office, or a manager of the customer's depot). None only
    for a run the schedule started (no one asked for it): the statement row, append-only
    in the database, with its run and no creator, is then the record, and no audit entry
    is written, as the audit log names a person for every entry."""
    if actor is None:
        if run is None or run.requested_by_id is not None:
            raise PermissionDenied("A statement is issued by someone, or by the scheduled run.")
    else:
        statement_issue_check(actor=actor, customer=customer)
    # The statement holds what was posted before this moment: its PDF, built again when
    # it is sent or printed, is cut at the same moment (statement_build's `until`).
    now = timezone.now()
    date_to, opening, closing = statement_balances(
        customer=customer, date_from=date_from, date_to=date_to, until=now
    )
    to = statement_email_to(customer) if email else ""
    issued = CustomerStatement.objects.create(
        customer=customer,
        date_from=date_from,
        date_to=date_to,
        opening_balance=opening,
        closing_balance=closing,
        run=run,
        emailed_to=to,
        created_at=now,
        created_by=actor,
    )
    if to:
        outbox_enqueue(
            kind=OutboxKind.STATEMENT, document=issued, number=issued.number, to=to, at=now
        )
    if actor is not None:
        audit_record(
            actor=actor,
            action=STATEMENT_ISSUED,
            obj=issued,
            depot=customer.depot,
            at=now,
            data={
                "number": issued.number,
                "customer": customer.code,
                "date_from": date_from.isoformat(),
                "date_to": date_to.isoformat(),
                "opening_balance": str(opening),
                "closing_balance": str(closing),
                "emailed_to": to,
                "run": run.pk if run is not None else None,
            },
        )
    return issued
