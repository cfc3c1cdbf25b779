"""The monthly statement run: every credit customer's statement of a month, issued and
e-mailed in the background, with its progress on the run's row (billing.StatementRun).

Idempotent per customer and month. One run per month (StatementRun.month is unique);
starting a month again continues its run. Each customer's statement is issued in its own
transaction (statement_issue), so progress is committed as it goes, and the unique (run,
customer) constraint on CustomerStatement makes a second worker, a redelivered task or a
run resumed after a worker died skip the customers already done: a worker that reaches a
customer another is issuing waits for that transaction and then gets IntegrityError,
which is "done already". No customer ever gets two statements of one run.

Who gets one: every credit customer whose account was open before the month ended
(created before its end), active or not. A closed (inactive) credit customer still gets
the month's statement when the account moved in the month or does not stand at zero at
its end: they owe money or are owed it, and the statement is how they learn it. A closed
account at zero with nothing in the month gets none.

A customer whose statement cannot be issued (an unexpected error) is logged, the run goes
on, and it ends FAILED with the reason in last_error and "N of M" short: starting the run
again issues only the missing ones.

Counters: customers_done and emailed are recounted from the statements of the run after
each chunk and only ever raised (GREATEST), so two workers on one run never lose or
double-count progress.
"""

import logging
from datetime import date, datetime, timedelta

from celery import current_app  # type: ignore[import-untyped]
from celery.exceptions import SoftTimeLimitExceeded  # type: ignore[import-untyped]
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q, QuerySet, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from billing.models import CustomerStatement, StatementRun, StatementRunStatus
from billing.services.statement_issue import statement_issue
from billing.services.statements import EARLIEST, balance_at, business_day, day_start
from core.models import Role, User
from core.services import audit_record
from sales.models import CreditNote, Customer, Payment, PaymentType, Transaction

logger = logging.getLogger(__name__)

RUN_TASK = "billing.tasks.statement_run_work"
CHUNK = 200
# A RUNNING run with no statement issued for this long has lost its worker.
STALLED_AFTER = timedelta(minutes=15)
# A QUEUED run older than this was not picked up (the broker was down at its start).
QUEUED_AFTER = timedelta(minutes=5)
ERROR_MAX = 2000


def month_first(month: date) -> date:
    return month.replace(day=1)


def month_last(month: date) -> date:
    first = month_first(month)
    return (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def previous_month(today: date | None = None) -> date:
    """The first day of the month before `today` (the business time zone's today)."""
    today = today or business_day(timezone.now())
    return month_first(month_first(today) - timedelta(days=1))


def statement_run_start(*, month: date, actor: User | None) -> StatementRun:
    """Start (or continue) the statement run of `month` (any day of it: the month is
    taken): QUEUED and handed to a worker after the commit. The same month again returns
    its run: a FAILED one is queued again (it issues only the statements still missing),
    a QUEUED or RUNNING one is left to its worker, a DONE one is returned as it is (the
    caller tells the person so).

    Refused: a month that has not ended yet (ValidationError on "month", code
    statement_month_not_ended); an actor who is not head office (PermissionDenied).
    `actor` None: the schedule (billing.tasks.statement_run_monthly)."""
    if actor is not None:
        if not actor.is_active:
            raise PermissionDenied(f"{actor.username} is not an active user.")
        if not (actor.is_superuser or actor.role == Role.ADMIN):
            raise PermissionDenied("Statement runs are started by head office.")
    if not isinstance(month, date):
        raise ValidationError(
            {"month": ValidationError("Give the month to run.", code="statement_month_missing")}
        )
    first = month_first(month)
    if first < EARLIEST:
        raise ValidationError(
            {
                "month": ValidationError(
                    "Statements can be run from %(earliest)s on; %(month)s is before that.",
                    code="statement_month_too_early",
                    params={"earliest": f"{EARLIEST:%B %Y}", "month": f"{first:%B %Y}"},
                )
            }
        )
    if first >= month_first(business_day(timezone.now())):
        raise ValidationError(
            {
                "month": ValidationError(
                    "%(month)s has not ended yet; its statements can be run once it has.",
                    code="statement_month_not_ended",
                    params={"month": f"{first:%B %Y}"},
                )
            }
        )
    with transaction.atomic():
        run, created = _run_for(first, actor)
        if run.status == StatementRunStatus.DONE:
            return run
        if run.status == StatementRunStatus.FAILED:
            StatementRun.objects.filter(pk=run.pk).update(status=StatementRunStatus.QUEUED)
            run.status = StatementRunStatus.QUEUED
        if actor is not None:
            audit_record(
                actor=actor,
                action="statement_run_start",
                obj=run,
                data={"month": f"{first:%Y-%m}", "new": created},
            )
        run_id = run.pk
        transaction.on_commit(lambda: statement_run_soon(run_id=run_id), robust=True)
    return run


def _run_for(first: date, actor: User | None) -> tuple[StatementRun, bool]:
    """The run of the month starting `first`, locked; created QUEUED when there is none
    (two starts at once: one creates it, the other finds it)."""
    run = StatementRun.objects.select_for_update().filter(month=first).first()
    if run is not None:
        return run, False
    try:
        with transaction.atomic():
            return StatementRun.objects.create(month=first, requested_by=actor), True
    except IntegrityError:  # started at the same moment by someone else
        return StatementRun.objects.select_for_update().get(month=first), False


def statement_run_soon(*, run_id: int) -> None:
    """Hand the run to the workers (after the start's commit). A broker that cannot take
    it is logged and left: the run stays QUEUED and statement_runs_resume (every few
    minutes, on the beat) hands it over again. Without a broker the run happens here."""
    try:
        if current_app.conf.task_always_eager:
            if RUN_TASK not in current_app.tasks:
                current_app.loader.import_default_modules()
            current_app.tasks[RUN_TASK].apply(args=[run_id])
        else:
            current_app.send_task(RUN_TASK, args=[run_id])
    except Exception:  # the start has committed: the beat picks the run up
        logger.warning(
            "Could not hand statement run %s to the workers; the beat picks it up.",
            run_id,
            exc_info=True,
        )


def statement_run_customers(first: date) -> QuerySet[Customer]:
    """The credit customers whose statement the run of the month `first` issues."""
    start = day_start(max(first, EARLIEST))
    end = day_start(month_last(first) + timedelta(days=1))
    credit = Customer.objects.filter(payment_type=PaymentType.CREDIT, created_at__lt=end)
    closed = [
        pk
        for pk in credit.filter(is_active=False).order_by("pk").values_list("pk", flat=True)
        if _account_moved(pk, start, end)
    ]
    return credit.filter(Q(is_active=True) | Q(pk__in=closed))


def _account_moved(customer_id: int, start: datetime, end: datetime) -> bool:
    """A closed account still has a statement: its balance at `end` is not zero, or a
    document of it happened in [start, end) (sales and payments by occurred_at, credit
    notes by their posting, as the statement dates them)."""
    customer = Customer(pk=customer_id)
    if balance_at(customer=customer, before=end) != 0:
        return True
    posted = {"created_at__gte": start, "created_at__lt": end}
    happened = {"occurred_at__gte": start, "occurred_at__lt": end}
    return (
        Transaction.objects.filter(
            customer_id=customer_id, payment_type=PaymentType.CREDIT, **happened
        ).exists()
        or CreditNote.objects.filter(transaction__customer_id=customer_id, **posted).exists()
        or Payment.objects.filter(customer_id=customer_id, **happened).exists()
        or Payment.objects.filter(
            customer_id=customer_id, reversed_at__gte=start, reversed_at__lt=end
        ).exists()
    )


def statement_run_execute(*, run: StatementRun, chunk: int = CHUNK) -> StatementRun:
    """Issue the run's statements: every customer of the month (see the module's
    docstring) in pk order, `chunk` at a time (ids only, so memory stays flat), skipping
    those it has already issued; each in its own transaction. Progress is written after
    each chunk. Ends DONE, or FAILED with last_error when some statements could not be
    issued. Safe to run twice at once, or again after a worker died."""
    with transaction.atomic():
        run = (
            StatementRun.objects.select_for_update(of=("self",))
            .select_related("requested_by")
            .get(pk=run.pk)
        )
        if run.status == StatementRunStatus.DONE:
            return run
        customers = statement_run_customers(run.month)
        now = timezone.now()
        StatementRun.objects.filter(pk=run.pk).update(
            status=StatementRunStatus.RUNNING,
            started_at=run.started_at or now,
            customers_total=Greatest(Value(customers.count()), F("customers_done")),
        )
    date_from, date_to = run.month, month_last(run.month)
    actor = run.requested_by
    failed: list[str] = []
    last_pk = 0
    while True:
        ids = list(
            customers.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:chunk]
        )
        if not ids:
            break
        last_pk = ids[-1]
        done = set(
            CustomerStatement.objects.filter(run=run, customer_id__in=ids).values_list(
                "customer_id", flat=True
            )
        )
        todo = [pk for pk in ids if pk not in done]
        for customer in Customer.objects.filter(pk__in=todo).select_related("depot").order_by("pk"):
            try:
                statement_issue(
                    customer=customer, date_from=date_from, date_to=date_to, actor=actor, run=run
                )
            except IntegrityError as exc:
                # Another worker issued it meanwhile; any other integrity failure is one.
                if not CustomerStatement.objects.filter(run=run, customer=customer).exists():
                    logger.exception("Statement of %s in %s not issued", customer.code, run)
                    failed.append(f"{customer.code}: {_reason(exc)}")
            except SoftTimeLimitExceeded:
                raise  # the task's time is up: the beat resumes the run
            except Exception as exc:  # one customer's failure does not stop the run
                logger.exception("Statement of %s in %s not issued", customer.code, run)
                failed.append(f"{customer.code}: {_reason(exc)}")
        _progress(run)
    return _finish(run, failed)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return f"{type(exc).__name__}: {exc}"


def _progress(run: StatementRun) -> None:
    """Write the run's counters from its statements (only ever raised)."""
    counts = CustomerStatement.objects.filter(run=run).aggregate(
        done=Count("pk"), emailed=Count("pk", filter=~Q(emailed_to=""))
    )
    StatementRun.objects.filter(pk=run.pk).update(
        customers_done=Greatest(F("customers_done"), Value(counts["done"])),
        emailed=Greatest(F("emailed"), Value(counts["emailed"])),
        customers_total=Greatest(F("customers_total"), Value(counts["done"])),
    )


def _finish(run: StatementRun, failed: list[str]) -> StatementRun:
    with transaction.atomic():
        _progress(run)
        run = StatementRun.objects.select_for_update().get(pk=run.pk)
        run.finished_at = timezone.now()
        if failed:
            run.status = StatementRunStatus.FAILED
            run.last_error = (
                f"{len(failed)} statement(s) could not be issued; start the run again to "
                "retry them. " + " | ".join(failed)
            )[:ERROR_MAX]
        else:
            run.status = StatementRunStatus.DONE
            # Everyone the run covers has their statement: a customer who stopped being
            # a credit customer during the run is no longer counted.
            run.customers_total = run.customers_done
            run.last_error = ""
        run.save(update_fields=["status", "finished_at", "last_error", "customers_total"])
    return run


def statement_runs_resume() -> list[int]:
    """Hand the workers every run that lost its way: QUEUED for a while (the broker was
    down at its start), or RUNNING with no statement issued for STALLED_AFTER (its
    worker died). Returns their ids. Run by the beat every few minutes."""
    now = timezone.now()
    queued = StatementRun.objects.filter(
        status=StatementRunStatus.QUEUED, created_at__lt=now - QUEUED_AFTER
    )
    stalled = (
        StatementRun.objects.filter(status=StatementRunStatus.RUNNING)
        .annotate(last_issued=Max("statements__created_at"))
        .filter(
            Q(last_issued__lt=now - STALLED_AFTER)
            | Q(last_issued__isnull=True, started_at__lt=now - STALLED_AFTER)
        )
    )
    ids = sorted({*queued.values_list("pk", flat=True), *stalled.values_list("pk", flat=True)})
    for run_id in ids:
        statement_run_soon(run_id=run_id)
    return ids


def statement_run_monthly(*, today: date | None = None) -> StatementRun:
    """The schedule's run: last month's statements (started once; a later call returns
    the same run)."""
    return statement_run_start(month=previous_month(today), actor=None)
