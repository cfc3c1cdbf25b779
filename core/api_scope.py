"""What each role sees through the API."""

from django.db.models import Q, QuerySet

from core.models import Role, User
from core.scoping import scope_queryset


def api_scope(
    queryset: QuerySet,
    user: User,
    *,
    own_field: str | None = None,
    depot_lookup: str = "depot",
    with_home_depot: bool = False,
) -> QuerySet:
    """A sales representative sees their own rows (own_field = them) or, without one,
    their home depot's; managers their depots; head office everything.

    with_home_depot (with own_field): a representative sees their own rows and also their
    home depot's rows that are no one's (own_field empty): their vehicle's stock and
    their depot's, for /api/me/stock/. There the role alone decides, as it always has:
    a representative who is also a superuser still sees only their own."""
    if user.role == Role.SALES and (with_home_depot or not user.is_superuser):
        if own_field and with_home_depot:
            return queryset.filter(
                Q(**{own_field: user})
                | Q(**{f"{own_field}__isnull": True, f"{depot_lookup}__in": user.depots.all()})
            )
        if own_field:
            return queryset.filter(**{own_field: user})
        return queryset.filter(**{f"{depot_lookup}__in": user.depots.all()})
    return scope_queryset(queryset, user, depot_lookup)
