"""A representative's vehicle and their depot: the vehicle's stock counts for the depot it
was collected at, so a depot or role change is refused while the vehicle holds any
(vehicle_transfer_guard, registered in core's assignment_guards by stock.apps), and an
empty vehicle follows its representative (vehicle_levels_follow, user_depots_changed).

A change of a representative's depot or role locks their user row FOR NO KEY UPDATE
before it looks at the vehicle; every posting holds the same row FOR SHARE
(sales_rep_home_depot): a posting that read the old depot and the change that would move
its stock away never overlap. See docs/architecture.md for the lock order.
"""

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Sum

from core.models import Depot, Role, User
from stock.models import StockLevel


def vehicle_transfer_guard(*, user: User, role: str, depots: Iterable[Depot]) -> None:
    """A representative whose vehicle holds stock keeps their depot and role until the
    vehicle is emptied (returned or counted off): the stock counts for that depot.

    Locks the representative's row FOR NO KEY UPDATE before reading their depot and
    vehicle, until the change commits: every posting that reads the home depot holds the
    same row FOR SHARE until it commits (stock.services.sales_rep_home_depot). So a
    collection in flight is waited for and then seen here, and a posting that starts now
    waits for the change and reads the new depot. Call inside the transaction that saves
    the change (the admin's change form runs in one)."""
    current = User.objects.select_for_update(no_key=True).filter(pk=user.pk).first()
    if current is None or current.role != "SALES":
        return
    before = set(current.depots.values_list("pk", flat=True))
    after = {d.pk for d in depots}
    if role == "SALES" and before == after:
        return
    held = StockLevel.objects.filter(sales_rep=current).aggregate(total=Sum("quantity"))["total"]
    if held:
        raise ValidationError(
            {
                "depots": ValidationError(
                    f"{current.username}'s vehicle still holds {held} cylinders. "
                    "Return them to the depot or count them off before changing the "
                    "representative's depot or role.",
                    code="vehicle_not_empty",
                )
            }
        )


def vehicle_levels_follow(*, sales_rep: User, empty_only: bool = False) -> int:
    """Move a representative's vehicle levels to their home depot after it changed; the
    number moved. Only empty levels move: the cylinders on a vehicle belong to the depot
    they were collected at, so a change is refused while the vehicle holds any
    (vehicle_transfer_guard) and a level still holding some is refused here too (or,
    with empty_only, left for check_stock to name). Called when a representative's
    depots change (stock.apps connects it), inside that change's transaction."""
    users = User.objects.select_for_update(no_key=True).filter(pk=sales_rep.pk)
    current = users.first()  # the lock order: the representative, then levels
    home = Depot.objects.filter(staff=sales_rep).order_by("code").first()
    if current is None or current.role != Role.SALES or home is None:
        return 0
    levels = list(
        StockLevel.objects.select_for_update()
        .filter(sales_rep=current)
        .exclude(depot=home)
        .order_by("pk")
    )
    held = sum(level.quantity for level in levels)
    if held and not empty_only:
        raise ValidationError(
            {
                "depots": ValidationError(
                    f"{current.username}'s vehicle still holds {held} cylinders of "
                    "another depot. Return them to the depot or count them off before "
                    "changing the representative's depot.",
                    code="vehicle_not_empty",
                )
            }
        )
    moved = [level for level in levels if level.quantity == 0]
    for level in moved:
        level.depot = home
        level.save(update_fields=["depot", "updated_at"])
    return len(moved)


def user_depots_changed(
    sender: object,
    instance: Any,  # a User, or a Depot when the change came from the depot's side
    action: str,
    reverse: bool,
    pk_set: set[int] | None,
    **kwargs: Any,
) -> None:
    """m2m_changed receiver for User.depots: an empty vehicle follows its representative."""
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        users = [instance]
    elif pk_set:
        users = list(User.objects.filter(pk__in=pk_set, role=Role.SALES).order_by("pk"))
    else:
        return
    for user in users:
        if user.role == Role.SALES:
            vehicle_levels_follow(sales_rep=user)
