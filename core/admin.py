import copy
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import (
    AdminUserCreationForm,
    ReadOnlyPasswordHashWidget,
    UserChangeForm,
)
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html
from reversion.admin import VersionAdmin

from core import dashboard
from core.admin_mixins import (
    DepotScopedAdminMixin,
    HistoryAdmin,
    ReadOnlyAdminMixin,
    RecoverableAdminMixin,
)
from core.admin_services import ServicePasswordChangeForm, ServiceSaveAdminMixin
from core.display import quantity
from core.models import Depot, Role, User
from core.scoping import scope_queryset
from core.services import (
    depot_create,
    depot_update,
    user_create,
    user_logout_everywhere,
    user_update,
)


class HSHUserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username",)


class PasswordSetWidget(ReadOnlyPasswordHashWidget):
    """The password as a clerk needs it: set or not (never the hash's algorithm, salt
    and iterations), and the reset link for whoever may reset it."""

    def __init__(self, *, may_reset: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.may_reset = may_reset

    def render(self, name, value, attrs=None, renderer=None):
        usable = bool(value) and not value.startswith(UNUSABLE_PASSWORD_PREFIX)
        state = "Password set" if usable else "No password set"
        if not self.may_reset:
            return format_html("<div><p>{}</p></div>", state)
        return format_html(
            '<div><p>{}</p><p><a class="button" href="../password/">{}</a></p></div>',
            state,
            "Reset password" if usable else "Set password",
        )


class HSHUserChangeForm(UserChangeForm):
    may_reset_password = True  # UserAdmin.get_form says, per request

    class Meta(UserChangeForm.Meta):
        model = User

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "password" in self.fields:
            self.fields["password"].widget = PasswordSetWidget(may_reset=self.may_reset_password)
            self.fields["password"].help_text = ""


@admin.register(User)
class UserAdmin(ServiceSaveAdminMixin, DepotScopedAdminMixin, HistoryAdmin, DjangoUserAdmin):
    """Users are saved by core.services (user_create, user_update): the role, depot and
    vehicle rules, the vehicle guard (it locks the representative's row until the change
    commits: the admin saves in one transaction), the role group and the audit entry."""

    form = HSHUserChangeForm
    add_form = HSHUserCreationForm
    list_display = (
        "username",
        "full_name",
        "role",
        "depot_codes",
        "vehicle_no",
        "is_active",
        "last_login",
    )
    list_filter = ("role", "is_active", "depots")
    search_fields = ("username", "first_name", "last_name", "email", "vehicle_no")
    ordering = ("username",)
    readonly_fields = ("last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "email")}),
        (
            "Role and assignment",
            {
                "fields": ("role", "depots", "vehicle_no"),
                "description": "Admins run head office; managers see their depots in "
                "the admin; sales representatives use the field API only, from one "
                "home depot and one vehicle.",
            },
        ),
        ("Status", {"fields": ("is_active",)}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"fields": ("username", "usable_password", "password1", "password2")}),
        ("Person", {"fields": ("first_name", "last_name", "email")}),
        ("Role and assignment", {"fields": ("role", "depots", "vehicle_no")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("depots")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and request.user.is_superuser:
            fieldsets = (*fieldsets, ("Superuser", {"fields": ("is_superuser",)}))
        return fieldsets

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "depots":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is None or not issubclass(form, HSHUserChangeForm):
            return form
        # The reset link only for whoever Django's password view lets in.
        may_reset = self.has_change_permission(request, obj)
        return type(form.__name__, (form,), {"may_reset_password": may_reset})

    def has_change_permission(self, request, obj=None):
        # Only a superuser may change a superuser's account (password included).
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # Staff are referenced by every document and history row they touched: a leaver
        # is deactivated (Status > active), never deleted.
        return False

    def user_change_password(self, request, id, form_url=""):
        # Django's view builds the form itself, as change_password_form(user, data): give
        # this request's copy of the admin a form that knows who sets the password.
        screen = copy.copy(self)
        screen.change_password_form = partial(ServicePasswordChangeForm, actor=request.user)
        return DjangoUserAdmin.user_change_password(screen, request, id, form_url)

    def service_create(self, request, form, values):
        data = form.cleaned_data
        usable = data.get("set_usable_password", True)
        return user_create(
            username=data["username"],
            password=data.get("password1") if usable else None,
            role=data["role"],
            depots=data.get("depots") or [],
            vehicle_no=data.get("vehicle_no") or "",
            first_name=data.get("first_name") or "",
            last_name=data.get("last_name") or "",
            email=data.get("email") or "",
            actor=request.user,
        )

    def service_update(self, request, obj, form, values):
        return user_update(user=obj, actor=request.user, data=values)

    @admin.display(description="Name", ordering="last_name")
    def full_name(self, obj):
        return obj.get_full_name()

    # --- Log out everywhere: end a user's field-API sign-ins (a lost handheld, a leaver)

    actions = ["log_out_everywhere"]
    change_form_template = "admin/core/user/change_form.html"

    def has_logout_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/logout-everywhere/",
                wrap(self.logout_everywhere_view),
                name="core_user_logout_everywhere",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_logout_everywhere": self.has_logout_permission(request),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _log_out(self, request, users):
        for user in users:
            user_logout_everywhere(user=user, actor=request.user, via="admin")
        names = ", ".join(u.username for u in users)
        messages.success(
            request,
            f"Logged out everywhere: {names}. Every sign-in they had (handhelds and admin "
            "sessions) has ended; they must sign in again.",
        )

    def _confirm_page(self, request, users, *, from_action):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Log out everywhere?",
            "users": users,
            "from_action": from_action,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/core/user/logout_everywhere.html", context)

    @admin.action(description="Log out everywhere (end their sign-ins)…", permissions=["logout"])
    def log_out_everywhere(self, request, queryset):
        users = list(queryset.order_by("username"))
        refused = [u for u in users if not self.has_logout_permission(request, u)]
        users = [u for u in users if u not in refused]
        for user in refused:
            messages.error(request, f"Only a superuser may log out {user.username}.")
        if not users:
            return None
        if request.POST.get("confirm") != "yes":
            return self._confirm_page(request, users, from_action=True)
        self._log_out(request, users)
        return None

    def logout_everywhere_view(self, request, pk):
        user = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_logout_permission(request, user):
            raise PermissionDenied
        if request.method == "POST":
            self._log_out(request, [user])
            return redirect("admin:core_user_change", user.pk)
        return self._confirm_page(request, [user], from_action=False)

    @admin.display(description="Depots")
    def depot_codes(self, obj):
        return ", ".join(d.code for d in obj.depots.all()) or "-"


@admin.register(Depot)
class DepotAdmin(
    ServiceSaveAdminMixin,
    DepotScopedAdminMixin,
    RecoverableAdminMixin,
    HistoryAdmin,
    VersionAdmin,
):
    list_display = ("code", "name", "is_active", "managers", "representatives")
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    ordering = ("code",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_managers=Count("staff", filter=Q(staff__role=Role.MANAGER)),
                n_reps=Count("staff", filter=Q(staff__role=Role.SALES)),
            )
        )

    @admin.display(description="Managers", ordering="n_managers")
    def managers(self, obj):
        return obj.n_managers

    @admin.display(description="Sales representatives", ordering="n_reps")
    def representatives(self, obj):
        return obj.n_reps

    def get_readonly_fields(self, request, obj=None):
        # The code is printed on documents and used by the API: fixed once created.
        return ("code",) if obj is not None else ()

    def service_create(self, request, form, values):
        return depot_create(actor=request.user, **values)

    def service_update(self, request, obj, form, values):
        return depot_update(depot=obj, actor=request.user, data=values)

    def has_delete_permission(self, request, obj=None):
        # Deleting a depot would silently unassign its staff: close it (inactive) instead.
        if obj is not None and obj.staff.exists():
            return False
        return super().has_delete_permission(request, obj)


admin.site.unregister(Group)

# django-axes: the lockouts stay (a superuser unlocks there); its logs are noise here.
from axes.admin import AccessAttemptAdmin  # noqa: E402
from axes.handlers.proxy import AxesProxyHandler  # noqa: E402
from axes.models import AccessAttempt, AccessFailureLog, AccessLog  # noqa: E402

admin.site.unregister(AccessLog)
admin.site.unregister(AccessFailureLog)


class LockoutAdmin(AccessAttemptAdmin):
    """django-axes' own, whose "Clean up expired attempts" reads the moment its
    middleware records only on a login (a server error from the changelist without it)."""

    @admin.action(description="Clean up expired attempts")
    def cleanup_expired_attempts(self, request, queryset):
        AxesProxyHandler.update_request(request)
        return super().cleanup_expired_attempts(request, queryset)


admin.site.unregister(AccessAttempt)
admin.site.register(AccessAttempt, LockoutAdmin)

from core import admin_beat  # noqa: E402, F401  (celery-beat's crontabs, readable or not)


@admin.register(Group)
class RoleGroupAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The role groups, read-only: their permissions are set by migrations."""

    list_display = ("name", "member_count")
    fields = ("name", "permission_list")
    readonly_fields = ("name", "permission_list")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_members=Count("user"))

    @admin.display(description="Members", ordering="n_members")
    def member_count(self, obj):
        return obj.n_members

    @admin.display(description="Permissions")
    def permission_list(self, obj):
        return ", ".join(
            f"{p.content_type.app_label}.{p.codename}"
            for p in obj.permissions.select_related("content_type").order_by(
                "content_type__app_label", "codename"
            )
        )


@dashboard.panel(order=10)
def depots_panel(request):
    depots = scope_queryset(Depot.objects.filter(is_active=True), request.user).annotate(
        n_reps=Count("staff", filter=Q(staff__role=Role.SALES, staff__is_active=True))
    )
    return {
        "title": "Depots",
        "headers": ["Code", "Name", "Active sales representatives"],
        "rows": [[d.code, d.name, quantity(d.n_reps)] for d in depots],
        "link": "admin:core_depot_changelist",
        "link_text": "All depots",
        "empty": "No depots assigned to you yet. Ask head office to assign one.",
    }


# The audit log's screen: in its own module (size); importing it registers it.
from core import admin_history_audit as admin_history_audit  # noqa: E402
