"""The demo seed's cylinder custody: deposit rates from a year back, sales that charge
them, a deposit-exempt customer charged none, cylinder returns refunded to credit
customers' accounts and in cash to cash customers, one count of cylinders held; the
printed count of returns is what was posted."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from sales.demo_custody import DEPOSIT_EXEMPT, DEPOSITS
from sales.models import (
    CylinderHolding,
    CylinderReturn,
    DepositRate,
    HoldingEntry,
    RefundTo,
    Transaction,
)

pytestmark = pytest.mark.django_db


def test_the_demo_charges_and_refunds_deposits(capsys):
    call_command("seed_demo", "--force")
    out = capsys.readouterr().out

    rates = {r.product.code: r for r in DepositRate.objects.select_related("product")}
    assert {code: r.amount for code, r in rates.items()} == DEPOSITS
    assert all(timezone.now() - r.effective_from > timedelta(days=365) for r in rates.values())
    charged = Transaction.objects.filter(deposit_amount__gt=0)
    assert charged.exists()
    assert not charged.filter(customer__code__in=DEPOSIT_EXEMPT).exists()
    exempt = CylinderHolding.objects.filter(customer__code__in=DEPOSIT_EXEMPT)
    assert exempt.filter(quantity__gt=0).exists()  # they hold cylinders, paid nothing
    assert exempt.aggregate(total=Sum("deposit_held"))["total"] == Decimal("0")

    returns = CylinderReturn.objects.all()
    printed = int(re.search(r"(\d+) cylinder returns", out).group(1))
    assert printed == returns.count() > 0
    assert returns.filter(refund_to=RefundTo.ACCOUNT, refund_amount__gt=0).exists()
    assert returns.filter(refund_to=RefundTo.CASH, refund_amount__gt=0).exists()
    counted = HoldingEntry.objects.filter(kind="ADJUSTMENT")
    assert counted.count() == 1
    assert counted.get().customer.code == "C003"
    assert "1 holding adjustment" in out
    # Every holding is the replay of its ledger, never below zero.
    for holding in CylinderHolding.objects.all():
        entries = HoldingEntry.objects.filter(holding=holding).aggregate(
            quantity=Sum("quantity"), deposit=Sum("deposit")
        )
        assert (holding.quantity, holding.deposit_held) == (
            entries["quantity"],
            entries["deposit"],
        )
        assert holding.quantity >= 0
        assert holding.deposit_held >= 0
