"""Who may use the field API: representatives post as themselves; head office and
managers read, and run reports."""

from rest_framework import permissions

from core.models import Role


class FieldPermission(permissions.IsAuthenticated):
    """Anyone active may read (limited to what their role sees); only a sales
    representative posts, and only as themselves."""

    message = "Only sales representatives post from the field, as themselves."

    def has_permission(self, request, view):
        if not super().has_permission(request, view) or not request.user.is_active:
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return request.user.role == Role.SALES


class HeadOfficeAndManagers(permissions.IsAuthenticated):
    message = "Reports are for head office and depot managers."

    def has_permission(self, request, view):
        return super().has_permission(request, view) and (
            request.user.is_superuser or request.user.role in (Role.ADMIN, Role.MANAGER)
        )
