from collections import defaultdict

import pytest
from django.core.management import call_command

from core.models import AuditLog, User
from sales.models import Payment, Transaction
from stock.models import Distribution, Product, StockMovement
from stock.selectors import ledger_differences, stock_on_hand

pytestmark = pytest.mark.django_db


def counts():
    return tuple(
        m.objects.count() for m in (StockMovement, Distribution, AuditLog, Transaction, Payment)
    )


def test_seed_demo_is_idempotent_consistent_and_chronological(capsys):
    call_command("seed_demo", "--force")
    first = counts()
    call_command("seed_demo", "--force")
    assert counts() == first
    assert first[3] > 100  # three weeks of sales
    assert ledger_differences() == []
    # Replayed in time order (as reports do), no level ever goes below zero.
    balance = defaultdict(int)
    for movement in StockMovement.objects.order_by("created_at", "id"):
        if movement.from_level_id:
            balance[movement.from_level_id] -= movement.quantity
            assert balance[movement.from_level_id] >= 0, movement
        if movement.to_level_id:
            balance[movement.to_level_id] += movement.quantity
    rep = User.objects.get(username="rep")
    # 30 loaded this morning, one sold since to walk-in customer C009 (with its installation)
    assert stock_on_hand(product=Product.objects.get(code="12.7KG"), sales_rep=rep) == 29
    out = capsys.readouterr().out
    assert "15 opening receipts" in out
    assert "demo sales already there" in out
