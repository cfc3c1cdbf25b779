"""Who may change master data: the role permissions give users, depots, products and
customers to head office only, and the services hold to it whichever interface calls
them (PermissionDenied, nothing written). Only a superuser touches a superuser's account
or makes one. user_create names its actor always; the accounts nobody opens come from
user_bootstrap."""

import inspect

import pytest
from django.core.exceptions import PermissionDenied

from core.models import AuditLog, Depot, User
from core.services import (
    depot_create,
    depot_update,
    user_bootstrap,
    user_create,
    user_password_set,
    user_update,
)
from sales.models import Customer
from sales.services import customer_create, customer_update
from stock.models import Product
from stock.services import product_create, product_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(head_office):
    User.objects.filter(pk=head_office.pk).update(is_superuser=True)
    head_office.refresh_from_db()
    return head_office


@pytest.fixture
def colleague(user_factory):
    """A second head-office account, no superuser."""
    return user_factory("ADMIN", username="colleague")


def refused(call, **kwargs) -> str:
    before = AuditLog.objects.count()
    with pytest.raises(PermissionDenied) as exc:
        call(**kwargs)
    assert AuditLog.objects.count() == before
    return str(exc.value)


@pytest.fixture
def not_head_office(manager, sales_rep):
    return [manager, sales_rep]


def test_depots_are_changed_by_head_office_only(not_head_office, north):
    for actor in not_head_office:
        assert "head office" in refused(depot_create, code="WEST", name="West", actor=actor)
        refused(depot_update, depot=north, actor=actor, data={"name": "Mine now"})
    assert not Depot.objects.filter(code="WEST").exists()
    north.refresh_from_db()
    assert north.name != "Mine now"


def test_products_are_changed_by_head_office_only(not_head_office):
    product = Product.objects.get(code="9KG")
    for actor in not_head_office:
        refused(
            product_create, code="5KG", name="5 kg", kind="CYLINDER", capacity_kg=5, actor=actor
        )
        refused(product_update, product=product, actor=actor, data={"name": "Mine"})
    assert not Product.objects.filter(code="5KG").exists()


def test_a_manager_may_not_open_or_change_a_customer_of_their_own_depot(
    manager, north, customer_factory
):
    customer = customer_factory(payment_type="CREDIT", credit_limit=100)
    refused(customer_create, code="C900", name="New", depot=north, actor=manager)
    refused(customer_update, customer=customer, actor=manager, data={"credit_limit": "99999"})
    customer.refresh_from_db()
    assert customer.credit_limit == 100
    assert not Customer.objects.filter(code="C900").exists()


def test_users_are_changed_by_head_office_only(not_head_office, manager, sales_rep, north):
    for actor in not_head_office:
        refused(user_create, username="new", password="p", role="ADMIN", actor=actor)
        refused(user_update, user=sales_rep, actor=actor, data={"role": "ADMIN", "depots": []})
    refused(user_update, user=manager, actor=manager, data={"role": "ADMIN", "depots": []})
    refused(user_password_set, user=sales_rep, password="new-pass-1234", actor=manager)
    assert not User.objects.filter(username="new").exists()


def test_a_user_may_set_their_own_password(manager):
    user_password_set(user=manager, password="my-own-pass-1234", actor=manager)
    manager.refresh_from_db()
    assert manager.check_password("my-own-pass-1234")


def test_only_a_superuser_makes_a_superuser(colleague, superuser, manager):
    message = refused(user_update, user=manager, actor=colleague, data={"is_superuser": True})
    assert "superuser" in message
    user_update(user=manager, actor=superuser, data={"is_superuser": True})
    manager.refresh_from_db()
    assert manager.is_superuser


def test_only_a_superuser_changes_a_superusers_account(colleague, superuser):
    refused(user_update, user=superuser, actor=colleague, data={"first_name": "Mallory"})
    refused(user_update, user=superuser, actor=colleague, data={"is_superuser": False})
    refused(user_password_set, user=superuser, password="taken-over-1234", actor=colleague)
    superuser.refresh_from_db()
    assert superuser.is_superuser
    assert superuser.first_name != "Mallory"
    user_update(user=superuser, actor=superuser, data={"first_name": "Root"})
    user_update(user=colleague, actor=superuser, data={"first_name": "Col"})


def test_head_office_still_changes_everything(head_office, north, customer_factory, sales_rep):
    depot_update(depot=north, actor=head_office, data={"name": "North yard"})
    product_update(
        product=Product.objects.get(code="9KG"), actor=head_office, data={"name": "9 kg"}
    )
    customer_update(customer=customer_factory(), actor=head_office, data={"name": "Renamed"})
    user_update(user=sales_rep, actor=head_office, data={"first_name": "Ravi"})
    assert (
        AuditLog.objects.filter(
            action__in=["depot_update", "product_update", "customer_update", "user_update"]
        ).count()
        == 4
    )


def test_an_inactive_head_office_account_is_refused(colleague, north):
    User.objects.filter(pk=colleague.pk).update(is_active=False)
    colleague.refresh_from_db()
    assert "not an active user" in refused(
        depot_update, depot=north, actor=colleague, data={"name": "Gone"}
    )


def test_user_create_requires_its_actor():
    actor = inspect.signature(user_create).parameters["actor"]
    assert actor.default is inspect.Parameter.empty
    with pytest.raises(TypeError):
        user_create(username="x", password="p", role="ADMIN")  # type: ignore[call-arg]


def test_user_bootstrap_opens_an_account_nobody_opened():
    first = user_bootstrap(username="first", password="first-pass-1234")
    assert (first.role, first.is_staff) == ("ADMIN", True)
    assert set(first.groups.values_list("name", flat=True)) == {"Admin"}
    assert not AuditLog.objects.exists()
    second = user_create(username="second", password=None, role="ADMIN", actor=first)
    assert AuditLog.objects.get(action="user_create").actor == first
    assert not second.has_usable_password()
