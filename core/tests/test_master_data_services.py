"""Depots and users through their services (core.services.depots, core.services.users):
each validates, naming the field and a code, and leaves one audit entry with the changed
fields old and new; nothing changed, nothing written. The admin saves through them."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.models import AuditLog, Depot, User
from core.services import (
    changes_apply,
    depot_create,
    depot_update,
    readable,
    user_create,
    user_password_set,
    user_update,
)
from sales.models import Customer
from stock.models import Product

pytestmark = pytest.mark.django_db


def entries(action):
    return list(AuditLog.objects.filter(action=action).order_by("seq"))


def codes(exc: ValidationError) -> dict[str, list[str]]:
    return {field: [e.code for e in errors] for field, errors in exc.error_dict.items()}


# --- The shared helper ---------------------------------------------------------------


def test_readable_values_are_json_and_name_rows_by_code(north, head_office):
    assert readable(north) == "NORTH"
    assert readable(head_office) == "headoffice"
    assert readable(Decimal("5")) == "5"
    assert readable(Decimal("5"), Customer._meta.get_field("credit_limit")) == "5.00"
    assert readable(datetime.date(2026, 3, 1)) == "2026-03-01"
    assert readable([north, Depot(code="EAST")]) == ["EAST", "NORTH"]
    assert readable(None) is None


def test_changes_apply_saves_only_what_changed(north):
    product = Product.objects.get(code="9KG")
    old = product.sort_order
    changes = changes_apply(
        instance=product,
        data={"capacity_kg": "9.0", "sort_order": old + 1, "is_active": True},
        editable=("capacity_kg", "sort_order", "is_active"),
    )
    assert changes == {"sort_order": {"old": old, "new": old + 1}}
    product.refresh_from_db()
    assert product.sort_order == old + 1


def test_changes_apply_refuses_a_field_it_may_not_change():
    product = Product.objects.get(code="9KG")
    with pytest.raises(ValidationError) as exc:
        changes_apply(instance=product, data={"code": "X"}, editable=("name",))
    assert codes(exc.value) == {"code": ["not_editable"]}
    assert Product.objects.filter(code="9KG").exists()


# --- Depots --------------------------------------------------------------------------


def test_depot_create_writes_the_row_and_its_initial_values(head_office):
    depot = depot_create(code=" WEST ", name="Western depot", actor=head_office)
    assert (depot.code, depot.is_active) == ("WEST", True)
    [entry] = entries("depot_create")
    assert (entry.actor, entry.depot, entry.object_id) == (head_office, depot, str(depot.pk))
    assert entry.data == {
        "depot": "WEST",
        "values": {"code": "WEST", "name": "Western depot", "is_active": True},
    }


def test_depot_create_refuses_a_taken_code(north, head_office):
    with pytest.raises(ValidationError) as exc:
        depot_create(code="NORTH", name="Again", actor=head_office)
    assert codes(exc.value) == {"code": ["unique"]}
    assert not entries("depot_create")


def test_depot_update_records_old_and_new(north, head_office):
    depot = depot_update(
        depot=north, actor=head_office, data={"name": "North (closed)", "is_active": False}
    )
    assert (depot.name, depot.is_active) == ("North (closed)", False)
    [entry] = entries("depot_update")
    assert entry.data == {
        "depot": "NORTH",
        "changes": {
            "name": {"old": "North depot", "new": "North (closed)"},
            "is_active": {"old": True, "new": False},
        },
    }


def test_depot_update_without_a_change_writes_nothing(north, head_office):
    depot_update(depot=north, actor=head_office, data={"name": "North depot", "is_active": True})
    assert not entries("depot_update")
    assert north.history.count() == 1  # only its creation


def test_depot_update_refuses_the_code_and_a_blank_name(north, head_office):
    with pytest.raises(ValidationError) as exc:
        depot_update(depot=north, actor=head_office, data={"code": "N"})
    assert codes(exc.value) == {"code": ["not_editable"]}
    with pytest.raises(ValidationError) as exc:
        depot_update(depot=north, actor=head_office, data={"name": ""})
    assert codes(exc.value) == {"name": ["blank"]}
    north.refresh_from_db()
    assert (north.code, north.name) == ("NORTH", "North depot")
    assert not entries("depot_update")


# --- Users ---------------------------------------------------------------------------


def test_user_create_by_an_actor_is_audited(head_office, north):
    rep = user_create(
        username="newrep",
        password="pw-long-enough-1",
        role="SALES",
        depots=[north],
        vehicle_no=" NP-1 ",
        actor=head_office,
    )
    [entry] = entries("user_create")
    assert (entry.actor, entry.depot) == (head_office, north)
    assert entry.data["username"] == "newrep"
    assert entry.data["values"]["depots"] == ["NORTH"]
    assert entry.data["values"]["vehicle_no"] == "NP-1"
    assert rep.check_password("pw-long-enough-1")


def test_user_create_without_a_password_cannot_sign_in(head_office):
    user = user_create(username="sso", password=None, role="ADMIN", actor=head_office)
    assert not user.has_usable_password()


def test_user_update_changes_role_depots_and_group(head_office, north, south, user_factory):
    manager = user_factory("MANAGER", depots=[north], username="m1")
    user_update(
        user=manager,
        actor=head_office,
        data={"depots": [north, south], "email": "m1@example.com", "first_name": ""},
    )
    [entry] = entries("user_update")
    assert entry.data == {
        "username": "m1",
        "changes": {
            "email": {"old": "", "new": "m1@example.com"},
            "depots": {"old": ["NORTH"], "new": ["NORTH", "SOUTH"]},
        },
    }
    user_update(user=manager, actor=head_office, data={"role": "ADMIN", "depots": []})
    manager.refresh_from_db()
    assert (manager.role, manager.is_staff) == ("ADMIN", True)
    assert set(manager.groups.values_list("name", flat=True)) == {"Admin"}
    assert entries("user_update")[-1].data["changes"]["role"] == {"old": "MANAGER", "new": "ADMIN"}


def test_user_update_to_sales_drops_staff_status(head_office, north, user_factory):
    manager = user_factory("MANAGER", depots=[north])
    user_update(user=manager, actor=head_office, data={"role": "SALES", "vehicle_no": "V-9"})
    manager.refresh_from_db()
    assert (manager.is_staff, manager.home_depot) == (False, north)
    assert set(manager.groups.values_list("name", flat=True)) == {"Sales"}


def test_user_update_without_a_change_writes_nothing(head_office, sales_rep, north):
    before = sales_rep.token_version
    user_update(
        user=sales_rep,
        actor=head_office,
        data={"depots": [north], "role": "SALES", "vehicle_no": sales_rep.vehicle_no},
    )
    assert not entries("user_update")
    sales_rep.refresh_from_db()
    assert sales_rep.token_version == before


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"vehicle_no": ""}, "vehicle_no", "required"),
        ({"depots": []}, "depots", "home_depot_not_one"),
        ({"email": "not-an-address"}, "email", "invalid"),
        ({"password": "x"}, "password", "not_editable"),
    ],
)
def test_user_update_refuses_naming_field_and_code(head_office, sales_rep, data, field, code):
    with pytest.raises(ValidationError) as exc:
        user_update(user=sales_rep, actor=head_office, data=data)
    assert codes(exc.value) == {field: [code]}
    assert not entries("user_update")
    sales_rep.refresh_from_db()
    assert sales_rep.vehicle_no
    assert sales_rep.home_depot is not None


def test_user_update_refuses_a_vehicle_another_user_drives(head_office, user_factory, north):
    user_factory("SALES", depots=[north], vehicle_no="NP-7")
    other = user_factory("SALES", depots=[north])
    with pytest.raises(ValidationError, match="already drives this vehicle") as exc:
        user_update(user=other, actor=head_office, data={"vehicle_no": "NP-7"})
    assert all(e.code for errors in exc.value.error_dict.values() for e in errors)


def test_user_password_set_ends_sign_ins_and_is_audited(head_office, sales_rep):
    before = sales_rep.token_version
    user = user_password_set(user=sales_rep, password="another-pass-99", actor=head_office)
    assert user.check_password("another-pass-99")
    assert user.token_version == before + 1
    [entry] = entries("user_password_set")
    assert entry.data == {"username": sales_rep.username, "usable": True}
    assert "another-pass-99" not in str(entry.data)


# --- The admin saves through them ----------------------------------------------------


def test_admin_adds_a_depot_through_the_service(client, head_office):
    client.force_login(head_office)
    response = client.post(
        reverse("admin:core_depot_add"), {"code": "WEST", "name": "West", "is_active": "on"}
    )
    assert response.status_code == 302
    depot = Depot.objects.get(code="WEST")
    [entry] = entries("depot_create")
    assert (entry.actor, entry.object_id) == (head_office, str(depot.pk))


def test_admin_changes_a_depot_through_the_service(client, head_office, north):
    client.force_login(head_office)
    response = client.post(
        reverse("admin:core_depot_change", args=[north.pk]), {"name": "Nord", "is_active": "on"}
    )
    assert response.status_code == 302
    [entry] = entries("depot_update")
    assert entry.data["changes"] == {"name": {"old": "North depot", "new": "Nord"}}
    assert (entry.actor, Depot.objects.get(pk=north.pk).name) == (head_office, "Nord")


def test_admin_user_change_is_audited_and_keeps_the_group_in_step(
    client, head_office, sales_rep, north
):
    client.force_login(head_office)
    response = client.post(
        reverse("admin:core_user_change", args=[sales_rep.pk]),
        {
            "username": sales_rep.username,
            "first_name": "Ravi",
            "last_name": "",
            "email": "",
            "role": "MANAGER",
            "depots": [north.pk],
            "vehicle_no": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    sales_rep.refresh_from_db()
    assert (sales_rep.role, sales_rep.is_staff, sales_rep.vehicle_no) == ("MANAGER", True, "")
    assert set(sales_rep.groups.values_list("name", flat=True)) == {"Manager"}
    [entry] = entries("user_update")
    assert entry.actor == head_office
    assert set(entry.data["changes"]) == {"first_name", "role", "vehicle_no"}


def test_admin_user_add_is_audited(client, head_office, north):
    client.force_login(head_office)
    response = client.post(
        reverse("admin:core_user_add"),
        {
            "username": "newmanager",
            "usable_password": "false",
            "role": "MANAGER",
            "depots": [north.pk],
            "vehicle_no": "",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="newmanager")
    assert not user.has_usable_password()
    assert set(user.groups.values_list("name", flat=True)) == {"Manager"}
    [entry] = entries("user_create")
    assert (entry.actor, entry.object_id) == (head_office, str(user.pk))


def test_a_refusal_shows_on_the_user_form_and_nothing_is_written(
    client, head_office, sales_rep, south
):
    client.force_login(head_office)
    response = client.post(
        reverse("admin:core_user_change", args=[sales_rep.pk]),
        {
            "username": sales_rep.username,
            "first_name": "Changed",
            "role": "SALES",
            "depots": [],
            "vehicle_no": sales_rep.vehicle_no,
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["depots"] == [
        "A sales representative has exactly one home depot; 0 selected."
    ]
    sales_rep.refresh_from_db()
    assert sales_rep.first_name == ""
    assert not entries("user_update")


def test_a_service_refusal_shows_on_the_depot_form(client, head_office, north, monkeypatch):
    """What only the service knows (here: a refusal it raises) reaches the form's field,
    and the admin's transaction is rolled back whole: no row, no log entry."""
    import core.admin

    def refuse(**kwargs):
        Depot.objects.filter(pk=north.pk).update(name="half-written")
        raise ValidationError({"name": ValidationError("Not this name.", code="refused")})

    monkeypatch.setattr(core.admin, "depot_update", refuse)
    client.force_login(head_office)
    response = client.post(
        reverse("admin:core_depot_change", args=[north.pk]), {"name": "Nord", "is_active": "on"}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"] == ["Not this name."]
    north.refresh_from_db()
    assert north.name == "North depot"
    from django.contrib.admin.models import LogEntry

    assert not LogEntry.objects.exists()


def test_admin_user_add_refusal_names_the_field_and_creates_nothing(client, head_office, north):
    client.force_login(head_office)
    response = client.post(
        reverse("admin:core_user_add"),
        {
            "username": "twohomes",
            "usable_password": "false",
            "role": "SALES",
            "depots": [north.pk],
            "vehicle_no": "",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["vehicle_no"] == [
        "A sales representative needs a vehicle number."
    ]
    assert not User.objects.filter(username="twohomes").exists()
    assert not Group.objects.get(name="Sales").user_set.filter(username="twohomes").exists()
    assert not entries("user_create")


# --- The seed ------------------------------------------------------------------------

MASTER_DATA = ("depot_create", "depot_update", "user_create", "user_update", "customer_create")


def test_seeding_twice_writes_master_data_once_through_the_services(capsys):
    from django.core.management import call_command

    call_command("seed_demo", "--force")
    first = {a: len(entries(a)) for a in (*MASTER_DATA, "customer_update", "user_password_set")}
    assert first == {
        "depot_create": 3,
        "depot_update": 0,
        "user_create": 3,  # the first account (admin) has nobody to attribute it to
        "user_update": 0,
        "customer_create": 15,  # with the walk-in cash customer C009
        "customer_update": 0,
        "user_password_set": 0,
    }
    admin = User.objects.get(username="admin")
    assert {e.actor for e in AuditLog.objects.filter(action__in=MASTER_DATA)} == {admin}
    call_command("seed_demo", "--force")
    again = {a: len(entries(a)) for a in first}
    assert again == first
    # What was changed since is put back, through the services (and on the record).
    depot_update(depot=Depot.objects.get(code="EAST"), actor=admin, data={"is_active": False})
    user_password_set(user=User.objects.get(username="rep"), password="changed-99", actor=admin)
    call_command("seed_demo", "--force")
    assert entries("depot_update")[-1].data["changes"] == {"is_active": {"old": False, "new": True}}
    assert User.objects.get(username="rep").check_password("hsh-rep-demo")
    assert len(entries("user_password_set")) == 2
