"""Admin add and change forms of master data (users, depots, products, customers) that
save through a service instead of ModelAdmin.save_model's plain save().

The form validates as usual; then the service runs, inside the admin's transaction, and
writes the row and its audit entry. When the service refuses (ValidationError), the
transaction is rolled back whole and the same form is shown again with the service's
errors on its fields, as any form error: never a server error, and nothing written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse

from core.admin_flow import service_error_to_form
from core.models import User
from core.services import user_password_set


class _Refused(Exception):
    def __init__(self, error: ValidationError):
        super().__init__(error)
        self.error = error


if TYPE_CHECKING:  # the stubs' generic bases; at run time a plain mixin and Django's form
    _AdminBase = admin.ModelAdmin[Any]
    _PasswordForm = AdminPasswordChangeForm[User]
else:
    _AdminBase = object
    _PasswordForm = AdminPasswordChangeForm


class ServiceSaveAdminMixin(_AdminBase):
    """Put before the ModelAdmin base. Subclasses implement service_create and
    service_update; the form's cleaned data are the values: every field on an add form,
    the changed ones on a change form.

    "Changed" is Django's form.changed_data: the posted values against the row as it is
    read again when the form is posted, not as the clerk saw it. A field someone else
    changed after the clerk opened the page is posted with the old value the page showed,
    so it counts as changed and the clerk's save puts that old value back (the audit entry
    shows it, old and new). There is no check that the row is unchanged since the page
    was loaded."""

    def service_create(
        self, request: HttpRequest, form: forms.ModelForm[Any], values: dict[str, Any]
    ) -> models.Model:
        raise NotImplementedError

    def service_update(
        self,
        request: HttpRequest,
        obj: models.Model,
        form: forms.ModelForm[Any],
        values: dict[str, Any],
    ) -> models.Model:
        raise NotImplementedError

    def form_values(self, form: forms.ModelForm[Any], change: bool) -> dict[str, Any]:
        """What the form says to save: every field on an add form, the changed ones on a
        change form."""
        names = form.changed_data if change else list(form.cleaned_data)
        return {
            name: form.cleaned_data[name]
            for name in names
            if name in form.cleaned_data and name in form.fields and not form.fields[name].disabled
        }

    def save_model(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm[Any], change: bool
    ) -> None:
        values = self.form_values(form, change)
        try:
            if change:
                saved = self.service_update(request, obj, form, values)
            else:
                saved = self.service_create(request, form, values)
        except ValidationError as exc:
            raise _Refused(exc) from exc
        # The admin goes on with `obj` (its log entry, message and redirect): make it the
        # row the service wrote.
        for field in obj._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding, obj._state.db = False, saved._state.db

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm[Any], formsets: Any, change: bool
    ) -> None:
        # The service saved the form's many-to-many fields too; only inlines are left.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _Refused as refused:
            # The admin's transaction was rolled back by the exception: render the form
            # again, now with the refusal on it (see get_form).
            request._service_refusal = refused.error  # type: ignore[attr-defined]
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form_class = super().get_form(request, obj, change=change, **kwargs)
        refusal: ValidationError | None = getattr(request, "_service_refusal", None)
        if refusal is None:
            return form_class
        error = refusal

        class RefusedForm(form_class):  # type: ignore[valid-type,misc]
            def _post_clean(self) -> None:
                super()._post_clean()
                service_error_to_form(self, error)

        return RefusedForm


class ServicePasswordChangeForm(_PasswordForm):
    """The admin's password page (UserAdmin.user_change_password) through
    core.services.user_password_set: the new password (or none usable) with its audit
    entry naming `actor`, and every sign-in of the account ended. The hash is never in
    the entry."""

    def __init__(self, user: User, *args: Any, actor: User, **kwargs: Any):
        super().__init__(user, *args, **kwargs)
        self.actor = actor

    def save(self, commit: bool = True) -> User:
        usable = self.cleaned_data.get("set_usable_password", True)
        password = self.cleaned_data["password1"] if usable else None
        # The view then keeps its own session signed in with form.user: the saved row.
        saved = user_password_set(user=self.user, password=password, actor=self.actor)
        self.user = saved
        return saved
