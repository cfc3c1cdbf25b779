"""reorder_level_set, low_stock and the daily low-stock e-mail (once per crossing)."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import AuditLog, User
from stock.models import ReorderLevel
from stock.selectors import low_stock
from stock.services import (
    distribution_create,
    low_stock_alerts_send,
    reorder_level_set,
    stock_adjust,
    stock_receive,
)
from stock.services.reorder import LowStockAlertNotSent
from stock.tasks import low_stock_alert_daily

pytestmark = pytest.mark.django_db


def test_set_creates_then_changes_with_history_and_audit(north, cyl, head_office):
    level = reorder_level_set(depot=north, product=cyl, minimum_full=20, actor=head_office)
    assert (level.depot, level.product, level.minimum_full) == (north, cyl, 20)
    changed = reorder_level_set(depot=north, product=cyl, minimum_full="35", actor=head_office)
    assert changed.pk == level.pk
    assert changed.minimum_full == 35
    assert ReorderLevel.objects.get().minimum_full == 35
    assert [h.minimum_full for h in level.history.order_by("history_id")] == [20, 35]
    entries = AuditLog.objects.filter(action="reorder_level_set").order_by("seq")
    assert [(e.data["before"], e.data["minimum_full"]) for e in entries] == [(None, 20), (20, 35)]
    assert entries[0].data["depot"] == "NORTH"
    assert entries[0].data["product"] == "12.7KG"


def test_the_same_minimum_again_writes_nothing(north, cyl, head_office):
    reorder_level_set(depot=north, product=cyl, minimum_full=20, actor=head_office)
    reorder_level_set(depot=north, product=cyl, minimum_full=20, actor=head_office)
    assert AuditLog.objects.filter(action="reorder_level_set").count() == 1
    assert ReorderLevel.history.count() == 1


@pytest.mark.parametrize(
    ("value", "code"),
    [(-1, "quantity_too_small"), ("1.5", "not_whole_number"), (True, "not_whole_number")],
)
def test_a_bad_minimum_is_refused_by_field(north, cyl, head_office, value, code):
    with pytest.raises(ValidationError) as refused:
        reorder_level_set(depot=north, product=cyl, minimum_full=value, actor=head_office)
    assert refused.value.error_dict["minimum_full"][0].code == code
    assert not ReorderLevel.objects.exists()
    assert not AuditLog.objects.filter(action="reorder_level_set").exists()


def test_only_cylinders_and_open_depots(north, bulk, cyl, head_office, depot_factory):
    with pytest.raises(ValidationError) as refused:
        reorder_level_set(depot=north, product=bulk, minimum_full=5, actor=head_office)
    assert refused.value.error_dict["product"][0].code == "product_not_cylinder"
    closed = depot_factory("SHUT", is_active=False)
    with pytest.raises(ValidationError) as refused:
        reorder_level_set(depot=closed, product=cyl, minimum_full=5, actor=head_office)
    assert refused.value.error_dict["depot"][0].code == "depot_inactive"
    assert not ReorderLevel.objects.exists()


def test_managers_may_not_set_levels(north, cyl, manager):
    with pytest.raises(PermissionDenied, match="head office"):
        reorder_level_set(depot=north, product=cyl, minimum_full=5, actor=manager)
    assert not ReorderLevel.objects.exists()


def test_low_stock_counts_the_depot_not_its_vehicles_in_one_query(
    north, south, cyl, nine, head_office, sales_rep
):
    reorder_level_set(depot=north, product=cyl, minimum_full=20, actor=head_office)
    reorder_level_set(depot=north, product=nine, minimum_full=5, actor=head_office)
    reorder_level_set(depot=south, product=cyl, minimum_full=1, actor=head_office)
    stock_receive(depot=north, product=cyl, quantity=25, actor=head_office)
    stock_receive(depot=north, product=nine, quantity=5, actor=head_office)
    # 10 go onto the vehicle: 15 left at the depot, under 20; the vehicle's do not count.
    distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=10,
        kind="COLLECTION",
        actor=head_office,
    )
    with CaptureQueriesContext(connection) as queries:
        rows = low_stock()
    assert len(queries) == 1
    assert rows == [
        {"depot": north, "product": cyl, "full": 15, "minimum": 20},
        {"depot": south, "product": cyl, "full": 0, "minimum": 1},
    ]
    assert low_stock(depot=south) == [rows[1]]
    assert low_stock(depot_ids=[north.pk]) == [rows[0]]


def test_closed_depots_and_zero_minimums_are_never_low(north, cyl, head_office):
    reorder_level_set(depot=north, product=cyl, minimum_full=0, actor=head_office)
    assert low_stock() == []
    reorder_level_set(depot=north, product=cyl, minimum_full=3, actor=head_office)
    assert len(low_stock()) == 1
    north.is_active = False
    north.save()
    assert low_stock() == []


@pytest.fixture
def north_low(north, cyl, head_office, manager, user_factory):
    """NORTH: minimum 20 full 12.7KG, 10 at the depot; two managers with addresses."""
    manager.email = "north@example.com"
    manager.save()
    user_factory("MANAGER", depots=[north], username="second", email="second@example.com")
    gone = user_factory("MANAGER", depots=[north], username="gone", email="x@example.com")
    User.objects.filter(pk=gone.pk).update(is_active=False)
    reorder_level_set(depot=north, product=cyl, minimum_full=20, actor=head_office)
    stock_receive(depot=north, product=cyl, quantity=10, actor=head_office)
    return ReorderLevel.objects.get(depot=north, product=cyl)


def test_managers_are_told_once_per_crossing(north_low, north, cyl, head_office, south):
    reorder_level_set(depot=south, product=cyl, minimum_full=5, actor=head_office)  # no manager
    assert low_stock_alert_daily.apply().get() == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["north@example.com", "second@example.com"]
    assert message.subject == "Low stock at depot NORTH: 12.7KG"
    assert "12.7KG: 10 full cylinders, minimum 20 (10 short)" in message.body
    north_low.refresh_from_db()
    assert north_low.alerted_at is not None
    assert ReorderLevel.objects.get(depot=south).alerted_at is None  # nobody told yet

    # Still low the next day, and lower: no second e-mail.
    assert low_stock_alerts_send() == 0
    assert len(mail.outbox) == 1

    # Back at the minimum: cleared; below again: a new crossing, told again.
    stock_receive(depot=north, product=cyl, quantity=10, actor=head_office)
    assert low_stock_alerts_send() == 0
    north_low.refresh_from_db()
    assert north_low.alerted_at is None
    stock_adjust(
        depot=north, product=cyl, state="FULL", counted=4, reason="damaged", actor=head_office
    )
    assert low_stock_alerts_send() == 1
    assert len(mail.outbox) == 2
    assert "4 full cylinders, minimum 20 (16 short)" in mail.outbox[1].body


def test_a_failed_email_is_released_and_tried_again(north_low, monkeypatch):
    from stock.services import reorder

    def broken(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr(reorder, "send_mail", broken)
    with pytest.raises(LowStockAlertNotSent, match="NORTH"):
        low_stock_alerts_send()
    north_low.refresh_from_db()
    assert north_low.alerted_at is None
    monkeypatch.undo()
    assert low_stock_alerts_send() == 1
    assert len(mail.outbox) == 1


def test_a_level_another_worker_claimed_is_not_sent_twice(north_low, monkeypatch):
    from stock.services import reorder

    real = reorder._manager_addresses

    def claimed_meanwhile(depot):
        ReorderLevel.objects.filter(pk=north_low.pk).update(alerted_at=north_low.updated_at)
        return real(depot)

    monkeypatch.setattr(reorder, "_manager_addresses", claimed_meanwhile)
    assert low_stock_alerts_send() == 0
    assert mail.outbox == []


def test_the_beat_runs_it_daily():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="stock.tasks.low_stock_alert_daily")
    assert task.enabled
    assert task.crontab is not None
    assert (task.crontab.hour, task.crontab.minute, task.crontab.day_of_week) == ("7", "0", "*")
