"""7. The monthly statement run: one month's statements for the dataset's 4,000 customers,
issued and e-mailed by one process, against building and drawing the same statements
without the run.

The run is what a worker does: billing.services.statement_run_execute (each customer in
its own transaction: statement_build, the CustomerStatement, its outbox message, its
audit entry; progress per chunk), then billing.services.outbox_send until the outbox is
empty, with Django's locmem e-mail backend, so each statement's PDF is really rendered
(again, from the documents) and attached to a real e-mail. Target: under 5 minutes for
4,000 customers on one process, with flat memory (RSS printed after each 1,000
customers, while issuing and while sending).

Baseline, in the same run: statement_build + statement_pdf of the first N customers
(400), one after another, writing nothing: the statement's own cost. The ratio says what
the run adds per statement (its transaction, audit entry and outbox row, the e-mail, and
building the statement a second time when its PDF is rendered at send).

Setup (idempotent, on top of bench/dataset.py, which it does not change). It bypasses the
services, by SQL, and says so: it makes the dataset's BC* customers credit customers with
an e-mail address (no history rows), dates their accounts back to the dataset's first
sale (bulk_create stamped them with the day the dataset was generated, so a run of a past
month would leave them out), and gives each of them a payment on the 15th of every month
of the dataset's span (BP-* numbers, no allocations, history or audit entries; payments
move no stock, so check_stock is unharmed, and verify_audit checks the chain it has,
which the statements' own entries extend as audit_record does). Each bench run takes the
most recent month that has no finished run yet (a run, and its statements, are kept
forever), so the benchmark can be run again about 20 times on one database.
"""

import os
import threading
import time
from datetime import date, timedelta
from unittest import mock

from django.db import connection
from django.test.utils import override_settings

from bench import dataset

NAME = "statement_run"
TARGET_SECONDS = 300


def add_arguments(parser):
    group = parser.add_argument_group(NAME)
    group.add_argument(
        "--statement-baseline",
        type=int,
        default=400,
        help="customers built and drawn without the run, for the baseline (400)",
    )


def rss_mb() -> float:
    """This process's resident memory now, in MB (Linux)."""
    with open(f"/proc/{os.getpid()}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class PeakSampler:
    """Samples RSS every 50 ms in a thread; `peak` is the highest seen."""

    def __init__(self) -> None:
        self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, rss_mb())

    def __enter__(self) -> "PeakSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


def _setup() -> None:
    """The dataset's customers as e-mailed credit customers with monthly payments."""
    admin = dataset.actors()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(created_at), max(created_at) FROM sales_transaction "
            "WHERE number LIKE 'BT-%%'"
        )
        first_sale, last_sale = cursor.fetchone()
        cursor.execute(
            """
            UPDATE sales_customer
               SET payment_type = 'CREDIT', email = lower(code) || '@bench.example',
                   email_invoices = true, created_at = %s
             WHERE code LIKE 'BC%%'
               AND (payment_type <> 'CREDIT' OR email = '' OR NOT email_invoices
                    OR created_at > %s)
            """,
            [first_sale - timedelta(days=1), first_sale],
        )
        dataset.log(f"statement_run: {cursor.rowcount:,} customers made e-mailed credit ones")
        cursor.execute(
            """
            INSERT INTO sales_payment
                (number, customer_id, depot_id, amount, allocated, method, reference,
                 received_by_id, received_on, created_at, occurred_at, idempotency_key,
                 request_fingerprint, reversed_at, reversed_by_id, reversal_reason)
            SELECT 'BP-' || c.id || '-' || to_char(m, 'YYYYMM'), c.id, c.depot_id,
                   1000.00 + (c.id %% 40) * 250.00, 0, 'CASH', '', %s,
                   (m + interval '14 days 11 hours')::date, m + interval '14 days 11 hours',
                   m + interval '14 days 11 hours',
                   NULL, '', NULL, NULL, ''
              FROM sales_customer c
             CROSS JOIN generate_series(date_trunc('month', %s::timestamptz),
                                        %s::timestamptz, interval '1 month') m
             WHERE c.code LIKE 'BC%%' AND m + interval '14 days 11 hours' < %s
            ON CONFLICT (number) DO NOTHING
            """,
            [admin.pk, first_sale, last_sale, last_sale],
        )
        dataset.log(f"statement_run: {cursor.rowcount:,} payments added")
        if cursor.rowcount:
            cursor.execute("ANALYZE sales_payment")
            cursor.execute("ANALYZE sales_customer")


def _month() -> date:
    """The most recent month that has ended and has no finished run."""
    from billing.models import StatementRun, StatementRunStatus
    from billing.services.statement_run import previous_month

    done = set(
        StatementRun.objects.filter(status=StatementRunStatus.DONE).values_list("month", flat=True)
    )
    month = previous_month()
    while month in done:
        month = previous_month(month)
    return month


def _baseline(month: date, n: int) -> tuple[int, float]:
    from billing.services import statement_build, statement_pdf
    from billing.services.statement_run import month_last, statement_run_customers

    customers = statement_run_customers(month).order_by("pk")[:n]
    started = time.perf_counter()
    count = 0
    for customer in customers:
        built = statement_build(customer=customer, date_from=month, date_to=month_last(month))
        statement_pdf(statement=built, number="ST-BASELINE")
        count += 1
    return count, time.perf_counter() - started


def run(args):
    from django.core import mail

    from billing.models import StatementRun
    from billing.services import outbox_send, statement_run_execute, statement_run_start
    from billing.services import statement_run as module
    from core.models import OutboxKind, OutboxMessage, OutboxStatus

    dataset.ensure(args.rows)
    _setup()
    admin = dataset.actors()
    month = _month()
    rows = []

    base_n, base_s = _baseline(month, args.statement_baseline)
    rows.append(
        {
            "what": "baseline: statement_build + statement_pdf, no run",
            "customers": base_n,
            "seconds": f"{base_s:.1f}",
            "ms_per_statement": f"{base_s / base_n * 1000:.1f}",
        }
    )

    issued_rss: list[str] = []
    real_issue = module.statement_issue

    def counted_issue(**kwargs):
        result = real_issue(**kwargs)
        counted_issue.n += 1
        if counted_issue.n % 1000 == 0:
            issued_rss.append(f"{counted_issue.n}:{rss_mb():.0f}MB")
        return result

    counted_issue.n = 0
    rss_start = rss_mb()
    with (
        mock.patch.object(module, "statement_run_soon", return_value=None),
        mock.patch("core.services.outbox.outbox_send_soon", return_value=None),
        mock.patch.object(module, "statement_issue", counted_issue),
        override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"),
        PeakSampler() as peak,
    ):
        started = time.perf_counter()
        run_row = statement_run_start(month=month, actor=admin)
        run_row = statement_run_execute(run=run_row)
        issue_s = time.perf_counter() - started

        sent, sent_rss = 0, []
        started = time.perf_counter()
        while True:
            batch = outbox_send(limit=250)
            sent += batch
            mail.outbox = []  # the locmem backend keeps what it "sent": not ours to hold
            if sent // 1000 > len(sent_rss):
                sent_rss.append(f"{sent}:{rss_mb():.0f}MB")
            if batch == 0:
                break
        send_s = time.perf_counter() - started
    run_row = StatementRun.objects.get(pk=run_row.pk)
    left = OutboxMessage.objects.filter(
        kind=OutboxKind.STATEMENT, status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING]
    ).count()
    n = run_row.customers_done
    total_s = issue_s + send_s
    rows.append(
        {
            "what": f"run of {month:%B %Y}: statement_run_execute",
            "status": run_row.status,
            "customers": n,
            "emailed": run_row.emailed,
            "seconds": f"{issue_s:.1f}",
            "statements_per_s": f"{n / issue_s:.1f}",
            "rss_after": ",".join(issued_rss),
        }
    )
    rows.append(
        {
            "what": "then outbox_send until empty (PDF rendered, locmem e-mail)",
            "sent": sent,
            "left": left,
            "seconds": f"{send_s:.1f}",
            "emails_per_s": f"{sent / send_s:.1f}" if send_s else "-",
            "rss_after": ",".join(sent_rss),
        }
    )
    per_run = total_s / n * 1000 if n else 0.0
    per_base = base_s / base_n * 1000 if base_n else 0.0
    rows.append(
        {
            "what": "total: issued and e-mailed",
            "customers": n,
            "seconds": f"{total_s:.1f}",
            "statements_per_s": f"{n / total_s:.1f}" if total_s else "-",
            "ms_per_statement": f"{per_run:.1f}",
            "ratio_vs_baseline": f"{per_run / per_base:.2f}x" if per_base else "-",
            "rss_start_mb": f"{rss_start:.0f}",
            "rss_peak_mb": f"{peak.peak:.0f}",
            "target": f"<{TARGET_SECONDS}s {'met' if total_s < TARGET_SECONDS else 'MISSED'}",
        }
    )
    return rows
