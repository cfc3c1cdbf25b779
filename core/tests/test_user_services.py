import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.models import User
from core.services import user_create, user_role_sync

pytestmark = pytest.mark.django_db


def group_names(user):
    return set(user.groups.values_list("name", flat=True))


@pytest.mark.parametrize(
    ("role", "staff", "group"),
    [("ADMIN", True, "Admin"), ("MANAGER", True, "Manager"), ("SALES", False, "Sales")],
)
def test_role_decides_staff_status_and_group(user_factory, north, role, staff, group):
    user = user_factory(role, depots=[north])
    assert user.is_staff is staff
    assert group_names(user) == {group}


def test_role_change_moves_the_user_to_the_new_group(user_factory, north):
    user = user_factory("SALES", depots=[north])
    user.role = "MANAGER"
    user.save()
    user_role_sync(user=user)
    user.refresh_from_db()
    assert user.is_staff is True
    assert group_names(user) == {"Manager"}


@pytest.mark.parametrize(
    ("role", "depot_count", "vehicle", "field", "text"),
    [
        ("SALES", 0, "V1", "depots", "exactly one home depot; 0 selected"),
        ("SALES", 2, "V1", "depots", "exactly one home depot; 2 selected"),
        ("SALES", 1, "  ", "vehicle_no", "needs a vehicle number"),
        ("MANAGER", 0, "", "depots", "needs at least one depot"),
    ],
)
def test_assignment_rules_name_the_field(
    north, south, head_office, role, depot_count, vehicle, field, text
):
    depots = [north, south][:depot_count]
    with pytest.raises(ValidationError) as exc:
        user_create(
            username="x",
            password="p",
            role=role,
            depots=depots,
            vehicle_no=vehicle,
            actor=head_office,
        )
    assert text in exc.value.message_dict[field][0]
    assert not User.objects.filter(username="x").exists()


def test_closed_depot_cannot_be_assigned(depot_factory, head_office):
    closed = depot_factory("WEST", is_active=False)
    with pytest.raises(ValidationError, match="WEST is closed"):
        user_create(username="x", password="p", role="MANAGER", depots=[closed], actor=head_office)


def test_a_vehicle_has_one_driver(user_factory, north):
    user_factory("SALES", depots=[north], vehicle_no="NP-1")
    with pytest.raises(ValidationError) as exc:
        user_factory("SALES", depots=[north], vehicle_no="NP-1")
    assert "already drives this vehicle" in str(exc.value)


def test_createsuperuser_is_an_admin(django_user_model):
    root = django_user_model.objects.create_superuser("root", "r@example.com", "pw")
    assert root.role == "ADMIN"
    assert root.is_staff


def test_admin_form_shows_the_rule_on_the_field(client, head_office, north):
    client.force_login(head_office)
    response = client.post(
        reverse("admin:core_user_add"),
        {
            "username": "newrep",
            "usable_password": "true",
            "password1": "Very-long-pass-2026",
            "password2": "Very-long-pass-2026",
            "role": "SALES",
            "depots": [north.pk],
            "vehicle_no": "",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["vehicle_no"] == [
        "A sales representative needs a vehicle number."
    ]
    assert not User.objects.filter(username="newrep").exists()


def test_admin_creates_a_rep_in_the_sales_group(client, head_office, north):
    client.force_login(head_office)
    response = client.post(
        reverse("admin:core_user_add"),
        {
            "username": "newrep",
            "usable_password": "true",
            "password1": "Very-long-pass-2026",
            "password2": "Very-long-pass-2026",
            "role": "SALES",
            "depots": [north.pk],
            "vehicle_no": "NP-9999",
        },
    )
    assert response.status_code == 302
    rep = User.objects.get(username="newrep")
    assert (rep.is_staff, group_names(rep), rep.home_depot) == (False, {"Sales"}, north)


def test_role_groups_hold_the_declared_permissions():
    perms = {
        g.name: {f"{p.content_type.app_label}.{p.codename}" for p in g.permissions.all()}
        for g in Group.objects.prefetch_related("permissions__content_type")
    }
    assert {"core.add_user", "core.change_user", "stock.change_product"} <= perms["Admin"]
    assert perms["Manager"] == {
        "core.view_user",
        "core.view_depot",
        "core.view_auditlog",
        "stock.view_product",
        "stock.view_stocklevel",
        "stock.receive_stock",
        "stock.count_stock",
        "stock.view_stockmovement",
        "stock.view_distribution",
        "stock.add_distribution",
        "stock.dispatch_empties",
        "stock.write_off_stock",
        "stock.view_transfer",
        "stock.transfer_stock",
        "stock.view_stockcount",
        "stock.view_reorderlevel",
        "sales.view_customer",
        "sales.view_rate",
        "sales.view_transaction",
        "sales.add_transaction",
        "sales.void_transaction",
        "sales.view_payment",
        "sales.add_payment",
        "sales.reverse_payment",
        "sales.view_creditnote",
        "sales.view_taxrate",
        "sales.view_depositrate",
        "sales.view_cylinderholding",
        "sales.view_holdingentry",
        "sales.view_cylinderreturn",
        "sales.add_cylinderreturn",
        "sales.view_syncrefusal",
        "sales.resolve_syncrefusal",
        "sales.view_cashup",
        "sales.add_cashup",
        "sales.confirm_cashup",
        "billing.view_customerstatement",
        "billing.add_customerstatement",
        "reporting.view_exportjob",
        "reporting.view_reportschedule",
        "reporting.add_reportschedule",
        "reporting.change_reportschedule",
        "reporting.delete_reportschedule",
    }
    assert perms["Sales"] == set()
