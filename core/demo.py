"""Demo data for core: depots and one user per role. Called by `manage.py seed_demo`."""

from datetime import datetime, time, timedelta
from typing import Any

from django.core.management.base import OutputWrapper
from django.db import transaction
from django.utils import timezone

from core.models import Depot, Role, User
from core.services import (
    depot_create,
    depot_update,
    user_bootstrap,
    user_create,
    user_password_set,
    user_update,
)

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
def seed(*, stdout: OutputWrapper) -> dict[str, Any]:
    """Depots and the demo accounts, through the services. Run again, it puts each back
    as documented (whatever was done to it since) and writes nothing where nothing
    changed."""
    admin = _account(*USERS[0], depots={}, actor=None)  # the first account: user_bootstrap
    depots = {code: _depot(code, name, actor=admin) for code, name in DEPOTS}
    logins = []
    for username, password, role, codes, vehicle, first, last in USERS:
        user = _account(username, password, role, codes, vehicle, first, last, depots, admin)
        logins.append((user.username, password, role.label, ", ".join(codes) or "all"))
    stdout.write(f"Depots: {', '.join(depots)}")
    return {"logins": logins}


def _depot(code: str, name: str, *, actor: User) -> Depot:
    depot = Depot.objects.filter(code=code).first()
    if depot is None:
        return depot_create(code=code, name=name, actor=actor)
    return depot_update(depot=depot, actor=actor, data={"name": name, "is_active": True})


def _account(
    username: str,
    password: str,
    role: str,
    codes: list[str],
    vehicle: str,
    first: str,
    last: str,
    depots: dict[str, Depot],
    actor: User | None,
) -> User:
    assigned = [depots[c] for c in codes]
    user = User.objects.filter(username=username).first()
    if user is None:
        fields = {"username": username, "password": password, "role": role}
        fields |= {"depots": assigned, "vehicle_no": vehicle}
        fields |= {"first_name": first, "last_name": last}
        if actor is None:  # the installation's first account: nobody opens it
            return user_bootstrap(**fields)
        return user_create(**fields, actor=actor)
    actor = actor or user
    data = {"role": role, "vehicle_no": vehicle, "is_active": True}
    data |= {"first_name": first, "last_name": last, "depots": assigned}
    user = user_update(user=user, actor=actor, data=data)
    if not user.check_password(password):
        user = user_password_set(user=user, password=password, actor=actor)
    return user


def totals() -> list[str]:
    """What the database holds, for seed_demo's last line."""
    return [f"{Depot.objects.count()} depots", f"{User.objects.count()} users"]


def days_ago(days: int, hour: int, minute: int = 0) -> datetime:
    """A local business time `days` before today. The stock and sales seeds lay down
    their history at such moments by passing them to the posting services (`at=`); the
    depots and accounts above are written at the real time."""
    day = timezone.localdate() - timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))
