"""Two workers on one statement run at once, on PostgreSQL: the unique (run, customer)
constraint makes whoever comes second to a customer skip it, so each customer gets
exactly one statement and one e-mail, and the run's counters add up."""

from collections import Counter
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from billing.models import CustomerStatement, StatementRunStatus
from billing.services import statement_run_execute, statement_run_start
from billing.services.statement_run import previous_month
from core.models import OutboxKind, OutboxMessage

pytest_plugins = ["billing.tests.statement_run_fixtures"]

CUSTOMERS = 40


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_on_one_run_issue_each_statement_once(
    north, head_office, no_worker, concurrently
):
    from sales.models import Customer

    moment = timezone.make_aware(datetime.combine(previous_month() + timedelta(days=9), time(10)))
    Customer.objects.bulk_create(
        Customer(
            code=f"K{n:03d}",
            name=f"Concurrent {n}",
            depot=north,
            payment_type="CREDIT",
            email=f"k{n}@harbour.example" if n % 4 else "",  # every 4th has no address
            created_at=moment,
        )
        for n in range(CUSTOMERS)
    )
    run = statement_run_start(month=previous_month(), actor=head_office)

    outcomes = concurrently(
        [lambda: statement_run_execute(run=run, chunk=7) for _ in range(2)], timeout=180
    )

    assert [type(o).__name__ for o in outcomes] == ["StatementRun", "StatementRun"], outcomes
    per_customer = Counter(
        CustomerStatement.objects.filter(run=run).values_list("customer_id", flat=True)
    )
    assert len(per_customer) == CUSTOMERS
    assert set(per_customer.values()) == {1}
    messages = Counter(
        OutboxMessage.objects.filter(kind=OutboxKind.STATEMENT).values_list("to", flat=True)
    )
    assert len(messages) == CUSTOMERS - CUSTOMERS // 4
    assert set(messages.values()) == {1}
    run.refresh_from_db()
    assert run.status == StatementRunStatus.DONE
    assert (run.customers_total, run.customers_done, run.emailed) == (
        CUSTOMERS,
        CUSTOMERS,
        CUSTOMERS - CUSTOMERS // 4,
    )
