"""Writes for users: create and change them (each with its audit entry), keep their role
group in step, log them out everywhere."""

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from core.db import atomic_with_retry
from core.models import Depot, Role, User
from core.roles import GROUP_NAMES
from core.services.audit import audit_record
from core.services.changes import changes_apply, instance_clean, readable, values_readable
from core.services.depots import depot_open_check
from core.services.master import head_office_check, superuser_check

# What user_update may change. The password has its own form (and ends the user's
# sign-ins: User.save); staff status follows the role; the depots are a list, not a column.
USER_EDITABLE = (
    "username",
    "first_name",
    "last_name",
    "email",
    "role",
    "vehicle_no",
    "is_active",
    "is_superuser",
)

# Checks other apps add (stock: a vehicle holding stock cannot change depot). Each is
# called as guard(user=..., role=..., depots=...) and raises ValidationError.
assignment_guards: list[Callable[..., None]] = []


def user_assignment_validate(
    *, role: str, depots: Iterable[Depot], vehicle_no: str, user: User | None = None
) -> None:
    """The rules tying a role to its depots and vehicle; raises per-field errors.
    `user` is the existing account being changed (None when creating one)."""
    depots = list(depots)
    errors: dict[str, ValidationError | list[ValidationError]] = {}
    if role == Role.SALES:
        if len(depots) != 1:
            errors["depots"] = ValidationError(
                f"A sales representative has exactly one home depot; {len(depots)} selected.",
                code="home_depot_not_one",
            )
        if not vehicle_no.strip():
            errors["vehicle_no"] = ValidationError(
                "A sales representative needs a vehicle number.", code="required"
            )
    elif role == Role.MANAGER and not depots:
        errors["depots"] = ValidationError(
            "A depot manager needs at least one depot.", code="manager_without_depot"
        )
    if "depots" not in errors:
        try:
            depot_open_check(*depots, field="depots")
        except ValidationError as exc:
            errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)
    if user is not None and user.pk is not None:
        for guard in assignment_guards:
            guard(user=user, role=role, depots=depots)


def user_role_sync(*, user: User) -> None:
    """Put the user in exactly the group of their role (and staff status with it)."""
    role_groups = Group.objects.filter(name__in=GROUP_NAMES.values())
    name = GROUP_NAMES[Role(user.role)]
    user.groups.remove(*role_groups.exclude(name=name))
    group, _ = Group.objects.get_or_create(name=name)
    user.groups.add(group)


@atomic_with_retry
def user_create(
    *,
    username: str,
    password: str | None,
    role: str,
    actor: User,
    depots: Iterable[Depot] = (),
    vehicle_no: str = "",
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> User:
    """A new account, opened by `actor` (head office): its audit entry names them.
    `password` None: it cannot sign in with one (an unusable password). The accounts
    nobody opens (the installation's first) come from user_bootstrap."""
    head_office_check(actor=actor, what="Users")
    depots = list(depots)
    user = _user_new(
        username=username,
        password=password,
        role=role,
        depots=depots,
        vehicle_no=vehicle_no,
        first_name=first_name,
        last_name=last_name,
        email=email,
    )
    values = values_readable(
        user, ("username", "first_name", "last_name", "email", "role", "vehicle_no")
    )
    audit_record(
        actor=actor,
        action="user_create",
        obj=user,
        depot=user.home_depot,
        data={"username": user.username, "values": {**values, "depots": readable(depots)}},
    )
    return user


@atomic_with_retry
def user_bootstrap(
    *,
    username: str,
    password: str | None,
    role: str = Role.ADMIN,
    depots: Iterable[Depot] = (),
    vehicle_no: str = "",
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> User:
    """An account nobody opens: the installation's first (the demo seed's admin), and
    test fixtures. There is no actor to name, so no audit entry is written: every other
    account is opened by user_create, by someone."""
    return _user_new(
        username=username,
        password=password,
        role=role,
        depots=list(depots),
        vehicle_no=vehicle_no,
        first_name=first_name,
        last_name=last_name,
        email=email,
    )


def _user_new(
    *,
    username: str,
    password: str | None,
    role: str,
    depots: list[Depot],
    vehicle_no: str,
    first_name: str,
    last_name: str,
    email: str,
) -> User:
    user_assignment_validate(role=role, depots=depots, vehicle_no=vehicle_no)
    user = User(
        username=username,
        role=role,
        vehicle_no=vehicle_no.strip(),
        first_name=first_name,
        last_name=last_name,
        email=email,
    )
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    instance_clean(user, exclude=["password"])
    user.save()
    user.depots.set(depots)
    user_role_sync(user=user)
    return user


@atomic_with_retry
def user_update(*, user: User, actor: User, data: Mapping[str, Any]) -> User:
    """Change an account: `data` maps fields of USER_EDITABLE, and "depots" (a list of
    depots), to their new values. The role, depot and vehicle rules and the other apps'
    guards (a vehicle holding stock keeps its depot) are checked when any of them
    changes; the role group follows the role; an empty vehicle follows its
    representative's new depot (stock.apps). Nothing changed: nothing is written.

    The account's row is locked first (FOR NO KEY UPDATE, as the vehicle guard and every
    posting's lock order expect: docs/architecture.md)."""
    head_office_check(actor=actor, what="Users")
    data = dict(data)
    new_depots = data.pop("depots", None)
    current = User.objects.select_for_update(no_key=True).get(pk=user.pk)
    superuser_check(actor=actor, account=current, data_superuser=data.get("is_superuser"))
    old_depots = list(current.depots.order_by("code"))
    new_depots = old_depots if new_depots is None else list(new_depots)
    depots_changed = {d.pk for d in new_depots} != {d.pk for d in old_depots}
    if "vehicle_no" in data:
        data["vehicle_no"] = (data["vehicle_no"] or "").strip()
    role = data.get("role", current.role)
    vehicle_no = data.get("vehicle_no", current.vehicle_no)
    if depots_changed or role != current.role or vehicle_no != current.vehicle_no:
        user_assignment_validate(role=role, depots=new_depots, vehicle_no=vehicle_no, user=current)
    changes = changes_apply(
        instance=current, data=data, editable=USER_EDITABLE, clean_exclude=["password"]
    )
    if depots_changed:
        current.depots.set(new_depots)
        changes["depots"] = {"old": readable(old_depots), "new": readable(new_depots)}
    if not changes:
        return current
    if "role" in changes:
        user_role_sync(user=current)
    audit_record(
        actor=actor,
        action="user_update",
        obj=current,
        depot=current.home_depot,
        data={"username": current.username, "changes": changes},
    )
    return current


@atomic_with_retry
def user_password_set(*, user: User, password: str | None, actor: User) -> User:
    """A new password (None: none usable). Ends every sign-in the user had, as any
    password change does (User.save raises the token version). Set by head office, or
    by the user themselves; a superuser's only by a superuser (or themselves)."""
    if actor.pk != user.pk:
        head_office_check(actor=actor, what="Other users' passwords")
    current = User.objects.select_for_update(no_key=True).get(pk=user.pk)
    if actor.pk != user.pk:
        superuser_check(actor=actor, account=current)
    if password is None:
        current.set_unusable_password()
    else:
        current.set_password(password)
    current.save(update_fields=["password"])
    audit_record(
        actor=actor,
        action="user_password_set",
        obj=current,
        depot=current.home_depot,
        data={"username": current.username, "usable": password is not None},
    )
    return current


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
