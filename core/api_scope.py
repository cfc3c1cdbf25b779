"""What each role sees through the API."""

from core.models import Role
from core.scoping import scope_queryset


def api_scope(queryset, user, *, own_field=None, depot_lookup="depot"):
    """A sales representative sees their own rows (own_field = them) or, without one,
    their home depot's; managers their depots; head office everything."""
    if user.role == Role.SALES and not user.is_superuser:
        if own_field:
            return queryset.filter(**{own_field: user})
        return queryset.filter(**{f"{depot_lookup}__in": user.depots.all()})
    return scope_queryset(queryset, user, depot_lookup)
