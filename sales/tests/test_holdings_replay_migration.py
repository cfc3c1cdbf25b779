"""sales 0014_holdings_replay: the sales posted before holdings existed, replayed into
cylinders held and their ledger, with opening balances where the replay would go below
zero, and one audit entry for the replay."""

from datetime import timedelta
from decimal import Decimal
from importlib import import_module
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from core.models import AuditLog
from core.selectors import audit_chain_check
from sales.models import CylinderHolding, HoldingEntry, Transaction, TransactionLine

migration = import_module("sales.migrations.0014_holdings_replay")

T0 = timezone.now().replace(microsecond=250000) - timedelta(days=30)


def _legacy_sale(customer, rep, lines, *, at, voided_at=None, voided_by=None, models=None):
    """A sale as posted before holdings: its rows only (no holding, no entry)."""
    sale_model, line_model = models or (Transaction, TransactionLine)
    sale = sale_model.objects.create(
        number=f"TX-LEGACY-{sale_model.objects.count() + 1:04d}",
        customer_id=customer.pk,
        sales_rep_id=rep.pk,
        depot_id=customer.depot_id,
        payment_type="CASH",
        total_amount=Decimal("100.00"),
        amount_paid=Decimal("100.00"),
        is_paid=True,
        status="VOID" if voided_at else "POSTED",
        created_by_id=rep.pk,
        created_at=at,
        voided_at=voided_at,
        voided_by_id=voided_by.pk if voided_by else None,
    )
    for product, quantity, empties in lines:
        line_model.objects.create(
            transaction_id=sale.pk,
            product_id=product.pk,
            quantity=quantity,
            empties_returned=empties,
            rate=Decimal("50.00"),
            subtotal=Decimal("100.00"),
        )
    return sale


def _replay():
    return migration.holdings_replay(django_apps, SimpleNamespace(connection=connection))


def _held():
    return {
        (h.customer.code, h.product.code): h.quantity
        for h in CylinderHolding.objects.select_related("customer", "product")
    }


def _entries(customer, product):
    return [
        (e.kind, e.quantity, e.created_at, e.reference)
        for e in HoldingEntry.objects.filter(customer=customer, product=product).order_by(
            "created_at", "id"
        )
    ]


@pytest.mark.django_db
def test_sales_voids_and_openings_are_replayed_in_order(
    customer_factory, sales_rep, head_office, products
):
    big, small, bulk = products["12.7KG"], products["9KG"], products["BULK"]
    alice, bob, carol = customer_factory(), customer_factory(), customer_factory()
    a1 = _legacy_sale(alice, sales_rep, [(big, 2, 0)], at=T0)
    a2 = _legacy_sale(alice, sales_rep, [(big, 1, 3), (small, 1, 2)], at=T0 + timedelta(hours=1))
    # an exchange (holding unchanged) that was voided: two entries of 0, one dated the void
    b1 = _legacy_sale(
        bob,
        sales_rep,
        [(big, 1, 1)],
        at=T0 + timedelta(hours=2),
        voided_at=T0 + timedelta(hours=5),
        voided_by=head_office,
    )
    # more empties than delivered, then voided: the count dips to -3 in between
    c1 = _legacy_sale(
        carol,
        sales_rep,
        [(big, 1, 4)],
        at=T0 + timedelta(hours=3),
        voided_at=T0 + timedelta(hours=4),
        voided_by=head_office,
    )
    # a metered line holds no cylinders at a customer's site: not replayed
    _legacy_sale(carol, sales_rep, [(bulk, 5, 0)], at=T0 + timedelta(hours=6))

    figures = _replay()

    assert _held() == {
        ("C001", "12.7KG"): 0,  # +2 -2
        ("C001", "9KG"): 0,  # opening 1, -1
        ("C002", "12.7KG"): 0,  # 0, void 0
        ("C003", "12.7KG"): 3,  # opening 3, -3, void +3
    }
    second = T0 - timedelta(seconds=1)
    assert _entries(alice, big) == [
        ("SALE", 2, T0, a1.number),
        ("SALE", -2, T0 + timedelta(hours=1), a2.number),
    ]
    # dated a second before Alice's first sale (of any product), with the note
    assert _entries(alice, small) == [
        ("OPENING", 1, second, ""),
        ("SALE", -1, T0 + timedelta(hours=1), a2.number),
    ]
    assert _entries(bob, big) == [
        ("SALE", 0, T0 + timedelta(hours=2), b1.number),
        ("VOID", 0, T0 + timedelta(hours=5), b1.number),
    ]
    assert _entries(carol, big) == [
        ("OPENING", 3, T0 + timedelta(hours=3) - timedelta(seconds=1), ""),
        ("SALE", -3, T0 + timedelta(hours=3), c1.number),
        ("VOID", 3, T0 + timedelta(hours=4), c1.number),
    ]
    opening = HoldingEntry.objects.get(customer=alice, kind="OPENING")
    assert "before the first sale on record" in opening.note
    assert opening.actor == head_office  # head office opened it, not a representative
    assert opening.deposit == Decimal("0")
    void = HoldingEntry.objects.get(customer=bob, kind="VOID")
    assert (void.actor, void.sales_rep, void.doc_type, void.doc_id) == (
        head_office,
        sales_rep,
        "sales.transaction",
        b1.pk,
    )
    assert HoldingEntry.objects.filter(product=bulk).count() == 0
    assert not HoldingEntry.objects.exclude(deposit=0).exists()
    assert not CylinderHolding.objects.exclude(deposit_held=0).exists()
    # each holding's last movement is its newest entry's moment
    assert CylinderHolding.objects.get(customer=bob).last_movement_at == T0 + timedelta(hours=5)
    assert CylinderHolding.objects.get(customer=alice, product=small).last_movement_at == (
        T0 + timedelta(hours=1)
    )

    assert figures == {
        "sales": 4,
        "voids": 2,
        "entries": 9,
        "holdings": 4,
        "openings": 2,
        "opening_cylinders": 4,
    }
    entry = AuditLog.objects.get(action="holdings_replay")
    assert entry.actor == head_office
    assert entry.data == {"migration": "sales.0014_holdings_replay", **figures}
    assert audit_chain_check().intact


@pytest.mark.django_db
def test_every_prefix_stays_at_or_above_zero(customer_factory, sales_rep, head_office, products):
    """The opening is the deepest shortfall, not the first or the last one."""
    big = products["12.7KG"]
    dave = customer_factory()
    moves = [(1, 3), (4, 0), (1, 6), (2, 1), (1, 3)]  # running: -2, 2, -3, -2, -4
    for hour, (quantity, empties) in enumerate(moves):
        _legacy_sale(dave, sales_rep, [(big, quantity, empties)], at=T0 + timedelta(hours=hour))
    _replay()
    running, counts = 0, []
    for _kind, quantity, _at, _ref in _entries(dave, big):
        running += quantity
        counts.append(running)
    assert counts == [4, 2, 6, 1, 2, 0]
    assert CylinderHolding.objects.get(customer=dave).quantity == 0


@pytest.mark.django_db
def test_without_sales_nothing_is_written(head_office):
    assert _replay() == {}
    assert not CylinderHolding.objects.exists()
    assert not AuditLog.objects.filter(action="holdings_replay").exists()


@pytest.mark.django_db
def test_a_second_run_writes_nothing(customer_factory, sales_rep, head_office, products):
    erin = customer_factory()
    _legacy_sale(erin, sales_rep, [(products["9KG"], 2, 0)], at=T0)
    assert _replay()["entries"] == 1
    _legacy_sale(erin, sales_rep, [(products["9KG"], 1, 0)], at=T0 + timedelta(hours=1))
    assert _replay() == {}  # holdings exist: the new code keeps them from here on
    assert HoldingEntry.objects.count() == 1
    assert AuditLog.objects.filter(action="holdings_replay").count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_replays_sales_posted_before_it(
    customer_factory, sales_rep, head_office, products
):
    frank = customer_factory()
    executor = MigrationExecutor(connection)
    executor.migrate([("sales", "0013_deposits_and_holdings")])
    old = executor.loader.project_state(("sales", "0013_deposits_and_holdings")).apps
    models = (old.get_model("sales", "Transaction"), old.get_model("sales", "TransactionLine"))
    _legacy_sale(frank, sales_rep, [(products["12.7KG"], 3, 1)], at=T0, models=models)
    _legacy_sale(
        frank, sales_rep, [(products["12.7KG"], 1, 4)], at=T0 + timedelta(days=1), models=models
    )
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    holding = CylinderHolding.objects.get(customer=frank)
    assert holding.quantity == 0  # opening 1, +2, -3
    assert [e[:2] for e in _entries(frank, products["12.7KG"])] == [
        ("OPENING", 1),
        ("SALE", 2),
        ("SALE", -3),
    ]
    assert AuditLog.objects.get(action="holdings_replay").data["openings"] == 1
