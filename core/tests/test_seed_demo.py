import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from core.models import Depot, User
from stock.models import Product

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
    assert counts() == first == (3, 4, 6)
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
