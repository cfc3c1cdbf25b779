import ast
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from django.utils import timezone

from core import demo
from core.models import AuditLog, Depot, User
from sales.models import Customer, Payment, PaymentAllocation, Rate, Transaction
from stock.models import Distribution, Product, StockLevel, StockMovement

pytestmark = pytest.mark.django_db


def counts():
    return (Depot.objects.count(), User.objects.count(), Product.objects.count())


def run_seed(capsys):
    call_command("seed_demo", "--force")
    return capsys.readouterr().out


def test_seed_twice_gives_the_same_data_and_working_logins(capsys):
    first_out = run_seed(capsys)
    first = counts()
    second_out = run_seed(capsys)
    assert counts() == first == (3, 4, 8)  # 6 gas products, 2 services
    for out in (first_out, second_out):
        assert "hsh-admin-demo" in out
        assert "hsh-manager-demo" in out
        assert "hsh-rep-demo" in out
    request = RequestFactory().post("/admin/login/")  # logins always come with a request
    assert authenticate(request, username="admin", password="hsh-admin-demo").role == "ADMIN"
    assert authenticate(request, username="manager", password="hsh-manager-demo").role == "MANAGER"
    rep = authenticate(request, username="rep", password="hsh-rep-demo")
    assert rep.role == "SALES"
    assert rep.home_depot.code == "NORTH"


def test_seed_repairs_a_demo_account(capsys):
    run_seed(capsys)
    User.objects.filter(username="manager").update(is_active=False, role="SALES")
    run_seed(capsys)
    manager = User.objects.get(username="manager")
    assert manager.is_active
    assert manager.role == "MANAGER"
    assert manager.is_staff
    assert set(manager.groups.values_list("name", flat=True)) == {"Manager"}


def test_seed_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only with DEBUG on"):
        call_command("seed_demo")
    assert counts()[:2] == (0, 0)


def test_the_seeded_history_is_dated_in_the_past_and_holds(capsys):
    """The seed lays down three weeks of history by passing each posting its moment
    (at=), not by patching the clock: a sale, its ledger rows, its history row, its audit
    entry and its number agree on when it happened, weeks ago; the audit chain and the
    stock ledger still verify."""
    run_seed(capsys)
    sale = Transaction.objects.order_by("created_at", "id").first()
    assert sale is not None
    assert timezone.now() - sale.created_at > timedelta(days=20)  # DAYS = 21 of rounds
    entry = AuditLog.objects.get(action="sale_post", object_id=str(sale.pk))
    ledger = StockMovement.objects.filter(doc_type="sales.transaction", doc_id=sale.pk)
    assert entry.created_at == sale.created_at
    assert ledger.exists()
    assert {row.created_at for row in ledger} == {sale.created_at}
    assert sale.history.earliest().history_date == sale.created_at
    assert sale.number.split("-")[1] == str(timezone.localtime(sale.created_at).year)
    opening = StockMovement.objects.filter(note="Opening stock (demo)")
    assert {timezone.localtime(m.created_at).date() for m in opening} == {
        timezone.localdate() - timedelta(days=28)
    }
    # Nothing of the history is stamped by the real clock: the seed gives every posting
    # a whole minute (days_ago), the clock never does (microseconds).
    for model in (StockMovement, Distribution, Transaction, Payment, PaymentAllocation, Rate):
        stamps = list(model.objects.values_list("created_at", flat=True))
        assert stamps, model
        assert {(t.second, t.microsecond) for t in stamps} == {(0, 0)}, model
    for model in (StockLevel, Distribution, Customer, Rate, Transaction, Payment):
        dates = list(model.history.values_list("history_date", flat=True))
        assert dates, model
        assert {(t.second, t.microsecond) for t in dates} == {(0, 0)}, model
    postings = AuditLog.objects.exclude(object_type__in=["core.depot", "core.user"])
    assert {(e.created_at.second, e.created_at.microsecond) for e in postings} == {(0, 0)}

    call_command("verify_audit")  # exits 1 when the chain does not hold
    call_command("check_stock")  # exits 1 when a level differs from its ledger
    out = capsys.readouterr().out
    assert "Audit chain intact" in out
    assert "stock levels match the ledger" in out


def test_no_production_module_patches_the_clock():
    """core.demo.at (a mock.patch of timezone.now) is gone: nothing outside the tests
    imports unittest.mock."""
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for app in ("core", "stock", "sales", "reporting", "hsh_admin"):
        for path in (root / app).rglob("*.py"):
            if "tests" in path.parts:
                continue
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = [f"{node.module}.{alias.name}" for alias in node.names]
                if any(name.startswith("unittest.mock") for name in names):
                    offenders.append(str(path.relative_to(root)))
    assert offenders == []
    assert not hasattr(demo, "at")
