"""Writes for users: create, keep their role group in step, log them out everywhere."""

from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from core.models import Depot, Role, User
from core.roles import GROUP_NAMES
from core.services.audit import audit_record

# Checks other apps add (stock: a vehicle holding stock cannot change depot). Each is
# called as guard(user=..., role=..., depots=...) and raises ValidationError.
assignment_guards: list = []


def user_assignment_validate(
    *, role: str, depots: Iterable[Depot], vehicle_no: str, user: User | None = None
) -> None:
    """The rules tying a role to its depots and vehicle; raises per-field errors.
    `user` is the existing account being changed (None when creating one)."""
    depots = list(depots)
    errors = {}
    if role == Role.SALES:
        if len(depots) != 1:
            errors["depots"] = (
                f"A sales representative has exactly one home depot; {len(depots)} selected."
            )
        if not vehicle_no.strip():
            errors["vehicle_no"] = "A sales representative needs a vehicle number."
    elif role == Role.MANAGER and not depots:
        errors["depots"] = "A depot manager needs at least one depot."
    inactive = [d.code for d in depots if not d.is_active]
    if inactive and "depots" not in errors:
        errors["depots"] = f"Depot {', '.join(inactive)} is closed (inactive)."
    if errors:
        raise ValidationError(errors)
    if user is not None and user.pk is not None:
        for guard in assignment_guards:
            guard(user=user, role=role, depots=depots)


def user_role_sync(*, user: User) -> None:
    """Put the user in exactly the group of their role (and staff status with it)."""
    role_groups = Group.objects.filter(name__in=GROUP_NAMES.values())
    user.groups.remove(*role_groups.exclude(name=GROUP_NAMES[user.role]))
    group, _ = Group.objects.get_or_create(name=GROUP_NAMES[user.role])
    user.groups.add(group)


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    role: str,
    depots: Iterable[Depot] = (),
    vehicle_no: str = "",
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> User:
    depots = list(depots)
    user_assignment_validate(role=role, depots=depots, vehicle_no=vehicle_no)
    user = User(
        username=username,
        role=role,
        vehicle_no=vehicle_no.strip(),
        first_name=first_name,
        last_name=last_name,
        email=email,
    )
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    user.depots.set(depots)
    user_role_sync(user=user)
    return user


def user_logout_everywhere(*, user: User, actor: User, via: str) -> User:
    """End every sign-in the user has: field-API tokens on every handheld (core.auth checks
    the version on each request and refresh) and admin sessions (the session hash covers
    the version: User._get_session_auth_hash). They sign in again. `via` says where it was
    asked ("admin", "api"). A password change does the same by itself (User.save)."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
        user.refresh_from_db(fields=["token_version"])
        audit_record(
            actor=actor,
            action="user_logout_everywhere",
            obj=user,
            data={"username": user.username, "via": via},
            depot=user.home_depot,
        )
    return user
