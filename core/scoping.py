"""Depot scoping: what a MANAGER may see is limited to the depots assigned to them.

A model opts in by naming the lookup from itself to core.Depot in a class attribute
`depot_scope` ("pk" on Depot, "depots" on User, "depot" on a document...). The admin
mixin in core.admin_mixins applies this to every queryset and every form choice.
"""

from django.db.models import Q, QuerySet

from core.models import Role

ALL = object()


def visible_depot_ids(user):
    """ALL for head office; the assigned depot ids for a manager; nothing for others."""
    if not user.is_authenticated or not user.is_active:
        return []
    if user.is_superuser or user.role == Role.ADMIN:
        return ALL
    if user.role == Role.MANAGER:
        return list(user.depots.values_list("pk", flat=True))
    return []


def scope_queryset(queryset: QuerySet, user, lookup: str | None = None) -> QuerySet:
    """Limit `queryset` to rows of the user's depots; unscoped models pass through."""
    lookup = lookup or getattr(queryset.model, "depot_scope", None)
    if lookup is None:
        return queryset
    depot_ids = visible_depot_ids(user)
    if depot_ids is ALL:
        return queryset
    queryset = queryset.filter(Q(**{f"{lookup}__in": depot_ids}))
    if lookup != "pk" and "__" not in lookup and _is_many(queryset.model, lookup):
        queryset = queryset.distinct()
    return queryset


def _is_many(model, field_name):
    field = model._meta.get_field(field_name)
    return field.many_to_many or field.one_to_many


def actor_access_check(*, actor, depot, sales_rep=None) -> None:
    """Refuse an action the actor may not take: a manager outside their depots, a sales
    representative acting for someone else or on depot stock, anyone inactive."""
    from django.core.exceptions import PermissionDenied

    if not actor.is_active:
        raise PermissionDenied(f"{actor.username} is not an active user.")
    if actor.is_superuser or actor.role == Role.ADMIN:
        return
    if actor.role == Role.SALES:
        if sales_rep is None or sales_rep.pk != actor.pk:
            raise PermissionDenied(
                f"{actor.username} is a sales representative and may act only for themselves."
            )
        return
    depot_ids = visible_depot_ids(actor)
    if depot.pk not in depot_ids:
        raise PermissionDenied(f"{actor.username} does not work for depot {depot.code}.")
