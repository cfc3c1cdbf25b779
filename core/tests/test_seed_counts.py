"""The seed's printed counts are what it posted (it said "12 distributions posted" while
its list held 269: the daily loads and returns of sales/demo.py went uncounted)."""

import re

import pytest
from django.core.management import call_command

from core.models import Depot, User
from sales.models import Customer, Payment, Transaction
from stock.models import Distribution, MovementKind, StockMovement

pytestmark = pytest.mark.django_db


def number(pattern, text):
    found = re.findall(pattern, text)
    assert found, f"{pattern!r} not in:\n{text}"
    return sum(int(n) for n in found)


def test_every_printed_count_is_what_was_posted(capsys):
    call_command("seed_demo", "--force")
    out = capsys.readouterr().out

    distributions = Distribution.objects.count()
    assert distributions > 100  # the demo's three weeks of loads and returns
    assert number(r"(\d+) distributions", out.split("Demo data is ready")[0]) == distributions
    receipts = StockMovement.objects.filter(kind=MovementKind.RECEIPT).count()
    assert number(r"(\d+) (?:opening receipts|stock deliveries)", out) == receipts
    assert number(r"(\d+) sales over", out) == Transaction.objects.count()
    assert number(r"(\d+) voids", out) == Transaction.objects.filter(status="VOID").count()
    assert number(r"(\d+) payments", out.split("Demo data is ready")[0]) == Payment.objects.count()

    totals = out.split("Demo data is ready")[1].splitlines()[0]
    assert totals == (
        f": {Depot.objects.count()} depots, {User.objects.count()} users, "
        f"{distributions} distributions, {Customer.objects.count()} customers, "
        f"{Transaction.objects.count()} sales "
        f"({Transaction.objects.filter(status='VOID').count()} void), "
        f"{Payment.objects.count()} payments."
    )


def test_a_second_run_says_it_posted_nothing_and_totals_stay(capsys):
    call_command("seed_demo", "--force")
    first = capsys.readouterr().out
    call_command("seed_demo", "--force")
    second = capsys.readouterr().out
    assert "Stock: 0 opening receipts, 0 distributions posted" in second
    assert "Sales: demo sales already there." in second
    total = re.compile(r"Demo data is ready: .*")
    assert total.search(first).group() == total.search(second).group()
