"""The admin side bar's Reports entry: the reports this user may open."""

from django import template

from core.models import Role
from reporting.catalogue import Report, all_reports

register = template.Library()


@register.simple_tag
def reports_for(user) -> list[Report]:
    """Every report for head office and managers; none for a representative (whose
    report pages are refused) or someone not logged in."""
    if not getattr(user, "is_authenticated", False):
        return []
    if getattr(user, "role", None) == Role.SALES and not user.is_superuser:
        return []
    return sorted(all_reports(), key=lambda r: r.title)
