"""The monthly statement run: starting it (a month that has ended, head office, idempotent),
running it (who gets a statement, e-mailed or not, progress), a failure for one customer
and the resume that finishes the run, the beat's pick-up and its schedule."""

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from celery import current_app
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from billing.models import CustomerStatement, StatementRun, StatementRunStatus
from billing.services import (
    statement_run_execute,
    statement_run_monthly,
    statement_run_start,
    statement_runs_resume,
)
from billing.services.statement_run import month_last, previous_month
from core.models import AuditLog, OutboxKind, OutboxMessage

pytestmark = pytest.mark.django_db

pytest_plugins = ["billing.tests.statement_run_fixtures"]


def _statements(run):
    return {s.customer.code: s for s in CustomerStatement.objects.filter(run=run)}


def test_this_month_and_the_future_are_refused_and_nothing_is_written(head_office, no_worker):
    today = timezone.localdate()
    for month in (today, today + timedelta(days=40)):
        with pytest.raises(ValidationError) as refused:
            statement_run_start(month=month, actor=head_office)
        error = refused.value.error_dict["month"][0]
        assert error.code == "statement_month_not_ended"
        assert refused.value.messages[0].startswith(f"{month:%B %Y} has not ended yet;")
    assert StatementRun.objects.count() == 0
    assert no_worker == []


def test_months_at_the_calendar_edges_are_refused_by_name_not_a_crash(head_office, no_worker):
    from datetime import date

    for month, code in (
        (date(9999, 12, 1), "statement_month_not_ended"),
        (date(1, 1, 1), "statement_month_too_early"),
        (date(1999, 12, 31), "statement_month_too_early"),
    ):
        with pytest.raises(ValidationError) as refused:
            statement_run_start(month=month, actor=head_office)
        assert refused.value.error_dict["month"][0].code == code
    assert StatementRun.objects.count() == 0
    assert no_worker == []


def test_only_head_office_starts_a_run(manager, sales_rep, no_worker):
    for actor in (manager, sales_rep):
        with pytest.raises(PermissionDenied, match="head office"):
            statement_run_start(month=previous_month(), actor=actor)
    assert StatementRun.objects.count() == 0


def test_starting_a_month_twice_is_one_run_handed_to_the_workers(head_office, no_worker):
    month = previous_month()
    first = statement_run_start(month=month + timedelta(days=9), actor=head_office)
    again = statement_run_start(month=month, actor=head_office)
    assert first.pk == again.pk
    assert StatementRun.objects.count() == 1
    first.refresh_from_db()
    assert (first.month, first.status, first.requested_by) == (
        month,
        StatementRunStatus.QUEUED,
        head_office,
    )
    assert AuditLog.objects.filter(action="statement_run_start").count() == 2


def test_a_run_issues_every_credit_customers_statement(book, head_office, no_worker):
    run = statement_run_start(month=previous_month(), actor=head_office)
    run = statement_run_execute(run=run, chunk=2)  # several chunks

    assert run.status == StatementRunStatus.DONE
    assert run.started_at is not None
    assert run.finished_at is not None
    issued = _statements(run)
    names = {c.code: name for name, c in book.items()}
    # The cash customer and the closed account at zero get none.
    assert sorted(names[code] for code in issued) == ["bare", "closed_owing", "mail", "paper"]
    mail = issued[book["mail"].code]
    assert (mail.date_from, mail.date_to) == (previous_month(), month_last(previous_month()))
    assert (mail.opening_balance, mail.closing_balance) == (Decimal("0.00"), Decimal("2000.00"))
    assert issued[book["closed_owing"].code].closing_balance == Decimal("3000.00")
    # E-mailed: those who take documents by e-mail (the paper customer does not).
    emailed = {names[code] for code, s in issued.items() if s.emailed_to}
    assert emailed == {"mail", "closed_owing"}
    messages = OutboxMessage.objects.filter(kind=OutboxKind.STATEMENT)
    assert sorted(messages.values_list("to", flat=True)) == [
        "mail@harbour.example",
        "owing@harbour.example",
    ]
    assert (run.customers_total, run.customers_done, run.emailed) == (4, 4, 2)
    assert AuditLog.objects.filter(action="statement_issued").count() == 4


def test_running_a_done_run_again_issues_nothing(book, head_office, no_worker):
    run = statement_run_execute(run=statement_run_start(month=previous_month(), actor=head_office))
    again = statement_run_start(month=previous_month(), actor=head_office)
    assert again.status == StatementRunStatus.DONE
    statement_run_execute(run=again)
    assert CustomerStatement.objects.filter(run=run).count() == 4
    assert OutboxMessage.objects.filter(kind=OutboxKind.STATEMENT).count() == 2


def test_an_integrity_error_that_is_not_a_statement_already_issued_is_a_failure(
    book, head_office, no_worker
):
    """Only "another worker issued it" is skipped; any other integrity error is named."""
    from django.db import IntegrityError

    from billing.services import statement_run as module

    real = module.statement_issue
    paper = book["paper"]

    def clashing(**kwargs):
        if kwargs["customer"].pk == paper.pk:
            raise IntegrityError("some other constraint")
        return real(**kwargs)

    run = statement_run_start(month=previous_month(), actor=head_office)
    with mock.patch.object(module, "statement_issue", clashing):
        run = statement_run_execute(run=run, chunk=1)
    assert run.status == StatementRunStatus.FAILED
    assert f"{paper.code}: IntegrityError: some other constraint" in run.last_error
    assert (run.customers_total, run.customers_done) == (4, 3)


def test_a_failure_is_recorded_the_run_goes_on_and_a_restart_finishes_it(
    book, head_office, no_worker
):
    from billing.services import statement_run as module

    real = module.statement_issue
    paper = book["paper"]

    def failing(**kwargs):
        if kwargs["customer"].pk == paper.pk:
            raise RuntimeError("the printer caught fire")
        return real(**kwargs)

    run = statement_run_start(month=previous_month(), actor=head_office)
    with mock.patch.object(module, "statement_issue", failing):
        run = statement_run_execute(run=run, chunk=1)
    assert run.status == StatementRunStatus.FAILED
    assert f"{paper.code}: RuntimeError: the printer caught fire" in run.last_error
    assert "start the run again" in run.last_error
    assert (run.customers_total, run.customers_done, run.emailed) == (4, 3, 2)

    restarted = statement_run_start(month=previous_month(), actor=head_office)
    assert (restarted.pk, restarted.status) == (run.pk, StatementRunStatus.QUEUED)
    run = statement_run_execute(run=restarted)
    assert run.status == StatementRunStatus.DONE
    assert run.last_error == ""
    assert (run.customers_total, run.customers_done, run.emailed) == (4, 4, 2)
    per_customer = CustomerStatement.objects.filter(run=run).values_list("customer", flat=True)
    assert len(per_customer) == len(set(per_customer)) == 4
    assert OutboxMessage.objects.filter(kind=OutboxKind.STATEMENT).count() == 2


def test_a_run_resumed_after_a_worker_died_skips_the_customers_done(book, head_office, no_worker):
    from billing.services import statement_issue

    run = statement_run_start(month=previous_month(), actor=head_office)
    # A worker issued "mail" and died: the run is left RUNNING.
    StatementRun.objects.filter(pk=run.pk).update(status=StatementRunStatus.RUNNING)
    statement_issue(
        customer=book["mail"],
        date_from=run.month,
        date_to=month_last(run.month),
        actor=head_office,
        run=run,
    )
    run = statement_run_execute(run=run)
    assert run.status == StatementRunStatus.DONE
    assert CustomerStatement.objects.filter(run=run).count() == 4
    assert CustomerStatement.objects.filter(run=run, customer=book["mail"]).count() == 1
    assert (
        OutboxMessage.objects.filter(kind=OutboxKind.STATEMENT, to="mail@harbour.example").count()
        == 1
    )


def test_the_eager_worker_runs_it_after_the_commit(
    book, head_office, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr("core.services.outbox.outbox_send_soon", lambda: None)
    monkeypatch.setitem(current_app.conf, "task_always_eager", True)
    with django_capture_on_commit_callbacks(execute=True):
        run = statement_run_start(month=previous_month(), actor=head_office)
    run.refresh_from_db()
    assert (run.status, run.customers_done) == (StatementRunStatus.DONE, 4)


def test_a_broker_that_is_down_leaves_the_run_queued(
    head_office, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setitem(current_app.conf, "task_always_eager", False)
    with (
        mock.patch.object(current_app, "send_task", side_effect=ConnectionError("down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        run = statement_run_start(month=previous_month(), actor=head_office)
    run.refresh_from_db()
    assert run.status == StatementRunStatus.QUEUED


def test_the_schedule_starts_last_month_once_without_a_person(
    book, no_worker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run = statement_run_monthly()
        assert (run.month, run.requested_by) == (previous_month(), None)
        assert statement_run_monthly().pk == run.pk
    assert no_worker == [run.pk, run.pk]
    run = statement_run_execute(run=run)
    assert run.status == StatementRunStatus.DONE
    assert set(CustomerStatement.objects.values_list("created_by", flat=True)) == {None}
    assert not AuditLog.objects.filter(action="statement_issued").exists()


def test_the_pick_up_hands_over_queued_and_stalled_runs_only(head_office, no_worker):
    now = timezone.now()
    old = now - timedelta(hours=1)
    month = previous_month()
    queued_late = StatementRun.objects.create(month=month, created_at=old)
    StatementRun.objects.create(month=month - timedelta(days=40))  # queued just now
    stalled = StatementRun.objects.create(
        month=month - timedelta(days=80), status=StatementRunStatus.RUNNING, started_at=old
    )
    StatementRun.objects.create(
        month=month - timedelta(days=120), status=StatementRunStatus.RUNNING, started_at=now
    )
    StatementRun.objects.create(
        month=month - timedelta(days=160), status=StatementRunStatus.DONE, created_at=old
    )
    assert statement_runs_resume() == sorted([queued_late.pk, stalled.pk])
    assert sorted(no_worker) == sorted([queued_late.pk, stalled.pk])


def test_the_beat_schedules_the_monthly_run_and_the_pick_up(settings):
    from django_celery_beat.models import PeriodicTask

    monthly = PeriodicTask.objects.get(task="billing.tasks.statement_run_monthly")
    assert monthly.enabled
    cron = monthly.crontab
    assert (cron.minute, cron.hour, cron.day_of_month) == ("0", "2", "1")
    assert str(cron.timezone) == settings.TIME_ZONE
    pick_up = PeriodicTask.objects.get(task="billing.tasks.statement_runs_resume")
    assert (pick_up.interval.every, pick_up.interval.period) == (10, "minutes")
