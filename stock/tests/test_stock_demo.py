import pytest
from django.core.management import call_command

from core.models import AuditLog
from stock.models import Distribution, StockMovement
from stock.selectors import ledger_differences, stock_on_hand

pytestmark = pytest.mark.django_db


def test_seed_demo_stock_is_idempotent_and_consistent(capsys):
    call_command("seed_demo", "--force")
    first = (StockMovement.objects.count(), Distribution.objects.count(), AuditLog.objects.count())
    call_command("seed_demo", "--force")
    second = (StockMovement.objects.count(), Distribution.objects.count(), AuditLog.objects.count())
    assert first == second
    assert first[1] == 12  # 2 reps x 3 products x (collection + return)
    assert list(ledger_differences()) == []
    from core.models import User
    from stock.models import Product

    rep = User.objects.get(username="rep")
    assert stock_on_hand(product=Product.objects.get(code="12.7KG"), sales_rep=rep) == 40
    assert "15 opening receipts" in capsys.readouterr().out
