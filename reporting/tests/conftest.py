"""A small business history with figures worked out by hand.

Forty days ago (D40), twenty days ago (D20) and five days ago (D5), all at 10:00:
- NORTH receives 50 full 12.7KG (D40 07:00); rep collects 10 (D40 08:00).
- D40: C1 (credit, NORTH, bulk tank) buys 2 x 12.7KG at 3000 (2 empties back) and meter
  0 -> 100 at 250: 6000 + 25000 = 31000. C2 (cash, NORTH) buys 1 x 12.7KG at 3100 (1 empty).
- D20: C1 meter 100 -> 160: 60 x 250 = 15000.
- D5: C2 buys 3 x 12.7KG at 3100 (2 empties); the sale is voided at 16:00.
- D5 17:00: the rep returns 3 empties.
- South: rep2 collects 4 (D20 08:00) and sells C3 (credit, SOUTH) 4 x 12.7KG at 2900
  = 11600 (D20 11:00).
- Payments: C1 pays 20000 on D10.
"""

from decimal import Decimal

import pytest

from core.demo import days_ago
from sales.models import Customer
from sales.services import payment_record, rate_set, sale_post, sale_void
from stock.models import Product
from stock.services import distribution_create, stock_receive


@pytest.fixture
def history(north, south, head_office, sales_rep, user_factory):
    rep2 = user_factory("SALES", depots=[south], username="southrep")
    cyl = Product.objects.get(code="12.7KG")
    bulk = Product.objects.get(code="BULK")
    opened = days_ago(45, 9)
    new = {"created_at": opened}  # the customers' rows, dated D45 like their rates
    c1 = Customer.objects.create(code="C1", name="Hotel", depot=north, payment_type="CREDIT", **new)
    c2 = Customer.objects.create(code="C2", name="Shop", depot=north, payment_type="CASH", **new)
    c3 = Customer.objects.create(code="C3", name="Cafe", depot=south, payment_type="CREDIT", **new)
    for customer, price in ((c1, "3000"), (c2, "3100"), (c3, "2900")):
        rate_set(customer=customer, product=cyl, rate=price, actor=head_office, at=opened)
    rate_set(customer=c1, product=bulk, rate="250", actor=head_office, at=opened)
    for depot, quantity in ((north, 50), (south, 20)):
        stock_receive(
            depot=depot, product=cyl, quantity=quantity, actor=head_office, at=days_ago(40, 7)
        )
    distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=10,
        kind="COLLECTION",
        actor=sales_rep,
        at=days_ago(40, 8),
    )
    sale_post(
        customer=c1,
        sales_rep=sales_rep,
        actor=sales_rep,
        lines=[{"product": cyl, "quantity": 2}],
        meter_reading="100",
        at=days_ago(40, 10),
    )
    sale_post(
        customer=c2,
        sales_rep=sales_rep,
        actor=sales_rep,
        lines=[{"product": cyl, "quantity": 1}],
        at=days_ago(40, 10),
    )
    distribution_create(
        sales_rep=rep2,
        depot=south,
        product=cyl,
        quantity=4,
        kind="COLLECTION",
        actor=rep2,
        at=days_ago(20, 8),
    )
    sale_post(
        customer=c1, sales_rep=sales_rep, actor=sales_rep, meter_reading="160", at=days_ago(20, 10)
    )
    sale_post(
        customer=c3,
        sales_rep=rep2,
        actor=rep2,
        lines=[{"product": cyl, "quantity": 4}],
        at=days_ago(20, 11),
    )
    payment_record(customer=c1, amount="20000", actor=head_office, at=days_ago(10, 12))
    voided = sale_post(
        customer=c2,
        sales_rep=sales_rep,
        actor=sales_rep,
        lines=[{"product": cyl, "quantity": 3, "empties_returned": 2}],
        at=days_ago(5, 10),
    )
    sale_void(transaction=voided, actor=head_office, reason="wrong customer", at=days_ago(5, 16))
    distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=3,
        kind="EMPTY_RETURN",
        actor=sales_rep,
        at=days_ago(5, 17),
    )
    return {
        "c1": c1,
        "c2": c2,
        "c3": c3,
        "cyl": cyl,
        "rep2": rep2,
        "voided": voided,
        "money": Decimal,
    }


@pytest.fixture(autouse=True)
def _tasks_run_in_process(request, monkeypatch):
    """Tasks run inline here, as without REDIS_URL; the tests marked `redis` use a real
    worker instead. (Through monkeypatch, so that a test's own change of the same setting
    is undone in the right order.)"""
    if request.node.get_closest_marker("redis"):
        return
    from hsh_admin.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
