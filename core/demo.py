"""Demo data for core: depots and one user per role. Called by `manage.py seed_demo`."""

from contextlib import contextmanager
from datetime import datetime, time, timedelta
from unittest import mock

from django.db import transaction
from django.utils import timezone

from core.models import Depot, Role, User
from core.services import user_assignment_validate, user_create, user_role_sync

DEPOTS = [
    ("NORTH", "Northern depot"),
    ("SOUTH", "Southern depot"),
    ("EAST", "Eastern depot"),
]

# username, password, role, depot codes, vehicle, first name, last name
USERS = [
    ("admin", "hsh-admin-demo", Role.ADMIN, [], "", "Anne", "Admin"),
    ("manager", "hsh-manager-demo", Role.MANAGER, ["NORTH"], "", "Mark", "Manager"),
    ("rep", "hsh-rep-demo", Role.SALES, ["NORTH"], "NP-4521", "Ravi", "Perera"),
    ("rep2", "hsh-rep2-demo", Role.SALES, ["SOUTH"], "SP-7788", "Sara", "Silva"),
]


@transaction.atomic
def seed(*, stdout) -> dict:
    depots = {}
    for code, name in DEPOTS:
        with at(days_ago(35, 8)):  # the demo's history starts five weeks ago
            depots[code], _ = Depot.objects.update_or_create(
                code=code, defaults={"name": name, "is_active": True}
            )
    logins = []
    for username, password, role, codes, vehicle, first, last in USERS:
        assigned = [depots[c] for c in codes]
        user = User.objects.filter(username=username).first()
        if user is None:
            with at(days_ago(35, 8)):
                user = user_create(
                    username=username,
                    password=password,
                    role=role,
                    depots=assigned,
                    vehicle_no=vehicle,
                    first_name=first,
                    last_name=last,
                )
        else:
            # Put a demo account back as documented, whatever was done to it.
            user_assignment_validate(role=role, depots=assigned, vehicle_no=vehicle, user=user)
            user.role, user.vehicle_no, user.is_active = role, vehicle, True
            user.first_name, user.last_name = first, last
            user.set_password(password)
            user.save()
            user.depots.set(assigned)
            user_role_sync(user=user)
        logins.append((username, password, role.label, ", ".join(codes) or "all"))
    stdout.write(f"Depots: {', '.join(depots)}")
    return {"logins": logins}


def totals() -> list[str]:
    """What the database holds, for seed_demo's last line."""
    return [f"{Depot.objects.count()} depots", f"{User.objects.count()} users"]


@contextmanager
def at(moment: datetime):
    """Post demo data as if it were `moment`: services and auto_now_add fields use
    django.utils.timezone.now, so the ledger, documents and audit log agree on the time."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def days_ago(days: int, hour: int, minute: int = 0) -> datetime:
    """A local business time `days` before today."""
    day = timezone.localdate() - timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))
