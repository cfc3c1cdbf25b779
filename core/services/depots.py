"""Writes for depots: open one, rename or close it. Each leaves an audit entry. And the
one "depot is closed" rule every service that assigns or posts to a depot checks."""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError

from core.db import atomic_with_retry
from core.models import Depot, User
from core.services.audit import audit_record
from core.services.changes import changes_apply, instance_clean, values_readable
from core.services.master import head_office_check

# What a depot's change may touch: its code is printed on documents and named by the API.
DEPOT_EDITABLE = ("name", "is_active")


@atomic_with_retry
def depot_create(*, code: str, name: str, actor: User, is_active: bool = True) -> Depot:
    head_office_check(actor=actor, what="Depots")
    depot = Depot(code=code.strip(), name=name.strip(), is_active=is_active)
    instance_clean(depot)
    depot.save()
    audit_record(
        actor=actor,
        action="depot_create",
        obj=depot,
        depot=depot,
        data={
            "depot": depot.code,
            "values": values_readable(depot, ("code", "name", "is_active")),
        },
    )
    return depot


@atomic_with_retry
def depot_update(*, depot: Depot, actor: User, data: Mapping[str, Any]) -> Depot:
    """Change a depot's name or open/closed state (`data`: field -> new value). Nothing
    changed: nothing is written and the depot is returned as it is.

    The row is locked FOR NO KEY UPDATE: audit entries, documents and users insert keys
    to it (FOR KEY SHARE), and a plain FOR UPDATE would wait for them (and deadlock a
    rename against a posting in that depot): docs/architecture.md, "Lock order"."""
    head_office_check(actor=actor, what="Depots")
    current = Depot.objects.select_for_update(no_key=True).get(pk=depot.pk)
    changes = changes_apply(instance=current, data=data, editable=DEPOT_EDITABLE)
    if not changes:
        return current
    audit_record(
        actor=actor,
        action="depot_update",
        obj=current,
        depot=current,
        data={"depot": current.code, "changes": changes},
    )
    return current


def depot_open_check(*depots: Depot, field: str = "depot", hint: str = "") -> None:
    """Refuse a closed (inactive) depot: ValidationError on `field`, code
    "depot_inactive", naming the closed ones ("Depot WEST is closed (inactive)" and
    `hint`, else a full stop)."""
    closed = [depot.code for depot in depots if not depot.is_active]
    if closed:
        message = f"Depot {', '.join(closed)} is closed (inactive){hint or '.'}"
        raise ValidationError({field: ValidationError(message, code="depot_inactive")})
