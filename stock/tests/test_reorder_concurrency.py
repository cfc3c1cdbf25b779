"""reorder_level_set under concurrency (PostgreSQL, real threads): clerks setting the
first minimum of one depot and product at once make one level, each change audited
with the figure it replaced; two alert runs at once send one e-mail."""

import itertools

import pytest
from django.core import mail

from core.models import AuditLog
from stock.models import ReorderLevel
from stock.services import low_stock_alerts_send, reorder_level_set, stock_receive

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_concurrent_first_levels_make_one_row(concurrently, north, cyl, head_office):
    outcomes = concurrently(
        [
            (
                lambda n=n: reorder_level_set(
                    depot=north, product=cyl, minimum_full=n, actor=head_office
                )
            )
            for n in range(1, 11)
        ]
    )
    assert [type(o).__name__ for o in outcomes] == ["ReorderLevel"] * 10
    level = ReorderLevel.objects.get(depot=north, product=cyl)
    entries = list(AuditLog.objects.filter(action="reorder_level_set").order_by("seq"))
    assert len(entries) == 10
    assert entries[0].data["before"] is None
    # Each change names the minimum it replaced: the chain of figures is unbroken.
    for earlier, later in itertools.pairwise(entries):
        assert later.data["before"] == earlier.data["minimum_full"]
    assert entries[-1].data["minimum_full"] == level.minimum_full


def test_two_alert_runs_at_once_send_one_email(
    concurrently, north, cyl, head_office, manager, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    manager.email = "north@example.com"
    manager.save()
    reorder_level_set(depot=north, product=cyl, minimum_full=20, actor=head_office)
    stock_receive(depot=north, product=cyl, quantity=3, actor=head_office)
    outcomes = concurrently([low_stock_alerts_send for _ in range(4)])
    assert sorted(outcomes) == [0, 0, 0, 1]
    assert len(mail.outbox) == 1
