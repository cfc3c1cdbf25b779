from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm

from core.dashboard import panels_for
from core.models import Role


class HSHAuthenticationForm(AdminAuthenticationForm):
    """Tells a sales representative where to go instead of a generic refusal."""

    def confirm_login_allowed(self, user):
        if user.is_active and getattr(user, "role", None) == Role.SALES:
            raise forms.ValidationError(
                "Sales representatives work from the handheld app (the field API), "
                "not the head-office admin.",
                code="invalid_login",
            )
        super().confirm_login_allowed(user)


class HSHAdminSite(admin.AdminSite):
    site_header = "HSH Sales"
    site_title = "HSH Sales"
    index_title = "Dashboard"
    login_form = HSHAuthenticationForm
    enable_nav_sidebar = True
    index_template = "admin/hsh_index.html"

    def has_permission(self, request):
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        return user.is_superuser or user.role in (Role.ADMIN, Role.MANAGER)

    def index(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "dashboard_panels": panels_for(request)}
        return super().index(request, extra_context)
