import re
from functools import wraps

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.views.main import SEARCH_VAR
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse

from core.dashboard import board_for, panels_for
from core.models import Role

# C0 control characters and DEL. PostgreSQL refuses NUL in text outright; the others have
# no business in a filter, an ordering or a page number either.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# Free text typed by a person (the changelist's search box, the autocomplete widget):
# control characters are dropped from it, the rest is searched.
SEARCH_PARAMETERS = (SEARCH_VAR, "term")
# Date hierarchy parts: Django turns them into a date, and a number too large for that
# escapes its own check (OverflowError) as a server error.
DATE_PART = re.compile(r"__(year|month|day)$")


def login_username_problem(username) -> str | None:
    """Why a username given at a login cannot be any account's, or None. Checked before
    authenticating: the lockout's failure log (django-axes) holds at most 255
    characters and no NUL, and such a username would otherwise fail the database."""
    limit = get_user_model()._meta.get_field("username").max_length
    if not isinstance(username, str):
        return None  # the form or serializer refuses it as it does any other
    if len(username) > limit:
        return f"Ensure this field has no more than {limit} characters."
    if CONTROL_CHARACTERS.search(username):
        return "A username has no control characters."
    return None


class HSHAuthenticationForm(AdminAuthenticationForm):
    """Tells a sales representative where to go instead of a generic refusal."""

    def clean_username(self):
        username = self.cleaned_data.get("username")
        problem = login_username_problem(username)
        if problem:
            raise forms.ValidationError(problem, code="invalid")
        return username

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

    def login(self, request, extra_context=None):
        response = super().login(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        if request.method == "POST" and form is not None and "username" in form.errors:
            response.status_code = 400  # no account can have this username: a bad request
        return response

    def index(self, request, extra_context=None):
        """The dashboard (core.dashboard.board_for) above the apps' panels; a filter
        value it refuses makes the page a 400 that names it."""
        board = board_for(request)
        status = board.pop("dashboard_status", 200)
        extra_context = {
            **(extra_context or {}),
            **board,
            "dashboard_panels": panels_for(request) if status == 200 else [],
        }
        response = super().index(request, extra_context)
        response.status_code = status
        return response

    def admin_view(self, view, cacheable=False):
        """Every admin page (the site's and each ModelAdmin's) checks the query string
        once, here, after the login and permission checks: a parameter that no form or
        filter can mean is a 400 page naming it, never a database error."""
        return super().admin_view(self._query_checked(view), cacheable)

    def _query_checked(self, view):
        @wraps(view)
        def checked(request, *args, **kwargs):
            problem = query_problem(request) or selection_problem(view, request)
            if problem is not None:
                return self.bad_request(request, problem)
            return view(request, *args, **kwargs)

        return checked

    def bad_request(self, request, problem: str):
        context = {**self.each_context(request), "title": "Bad request", "problem": problem}
        return TemplateResponse(request, "admin/hsh_bad_request.html", context, status=400)


def query_problem(request) -> str | None:
    """What is wrong with the request's query string, in words; None when nothing is.
    Search text has its control characters dropped instead (request.GET is replaced)."""
    cleaned = None
    for name, values in request.GET.lists():
        if CONTROL_CHARACTERS.search(name):
            return "A parameter name in the address holds a control character."
        for value in values:
            if not CONTROL_CHARACTERS.search(value):
                if DATE_PART.search(name) and not (value.isdigit() and len(value) <= 4):
                    return f"Parameter {name!r} must be a number of at most four digits."
                continue
            if name not in SEARCH_PARAMETERS:
                return (
                    f"Parameter {name!r} holds a control character (such as NUL); "
                    "remove it from the address and try again."
                )
            if cleaned is None:
                cleaned = request.GET.copy()
            cleaned.setlist(
                name, [CONTROL_CHARACTERS.sub("", v) for v in request.GET.getlist(name)]
            )
    if cleaned is not None:
        cleaned._mutable = False
        request.GET = cleaned
    return None


def selection_problem(view, request) -> str | None:
    """What is wrong with the rows an action was asked for on a changelist (a POST of
    its form), in words; None when nothing is. Django filters by them as they come, and
    a key that is no key (a word, nothing) would be a database error."""
    model_admin = getattr(view, "__self__", None)
    if request.method != "POST" or not isinstance(model_admin, admin.ModelAdmin):
        return None
    key = model_admin.model._meta.pk
    for value in request.POST.getlist(ACTION_CHECKBOX_NAME):
        try:
            key.to_python(value)
        except ValidationError:
            return (
                "The rows selected for the action are not rows of this list; "
                "reload it and select again."
            )
    return None
