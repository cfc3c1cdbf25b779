"""The daily low-stock task on a real Celery worker (Redis, PostgreSQL): the depot's
manager gets one e-mail per fall below the minimum, however often the beat runs it."""

import os

import pytest
import redis

from billing.tests.test_outbox_worker import _unacked, _Worker
from stock.models import ReorderLevel
from stock.services import reorder_level_set, stock_receive
from stock.tasks import low_stock_alert_daily


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_worker_tells_the_manager_once(north, head_office, manager, products, tmp_path):
    manager.email = "north.manager@example.lk"
    manager.save()
    cyl = products["12.7KG"]
    reorder_level_set(depot=north, product=cyl, minimum_full=20, actor=head_office)
    stock_receive(depot=north, product=cyl, quantity=5, actor=head_office)
    worker = _Worker(tmp_path)
    try:
        worker.start()
        low_stock_alert_daily.apply_async(queue=worker.queue)
        worker.wait_for(lambda: "Low stock at depot NORTH" in worker.mail(), "the e-mail")
        low_stock_alert_daily.apply_async(queue=worker.queue)  # the next day: still low
        client = redis.Redis.from_url(os.environ["REDIS_URL"])
        worker.wait_for(
            lambda: client.llen(worker.queue) == 0 and not _unacked(worker.queue),
            "the second run to end",
        )
        mail = worker.mail()
        assert mail.count("Subject: Low stock at depot NORTH: 12.7KG") == 1
        assert "north.manager@example.lk" in mail
        assert "5 full cylinders, minimum 20 (15 short)" in mail
        assert ReorderLevel.objects.get(depot=north).alerted_at is not None
        assert "Traceback" not in worker.output(), worker.output()
    finally:
        worker.stop()
        redis.Redis.from_url(os.environ["REDIS_URL"]).delete(worker.queue)
