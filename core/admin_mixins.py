"""Reusable admin behaviour. Every depot-bound screen uses DepotScopedAdminMixin."""

from django.contrib import admin, messages
from django.contrib.admin.utils import NotRelationField, get_fields_from_path, unquote
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from reversion.models import Version
from simple_history.admin import SimpleHistoryAdmin

from core import admin_history
from core.admin_services import _Refused
from core.scoping import ALL, scope_queryset, visible_depot_ids
from core.services import master_delete, master_recovered


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A related-field filter that offers only the rows the user may see."""

    def field_choices(self, field, request, model_admin):
        related = field.remote_field.model
        queryset = scope_queryset(related._default_manager.all(), request.user)
        return [(obj.pk, str(obj)) for obj in queryset]


class DepotScopedAdminMixin:
    """Limits the changelist, object pages, form choices and filters to the user's depots.

    The model (and each related model offered in a form) declares `depot_scope`, the
    lookup to core.Depot; see core.scoping. ADMIN users see everything.
    """

    def get_queryset(self, request):
        return scope_queryset(super().get_queryset(request), request.user)

    def _scope_guard(self, request, object_id):
        """History pages look rows up by id, past the admin queryset: check it first."""
        if visible_depot_ids(request.user) is ALL:
            return
        _valid_pk_or_404(self.model, object_id)
        if not self.get_queryset(request).filter(pk=unquote(object_id)).exists():
            raise Http404(f"No {self.model._meta.verbose_name} with that id in your depots.")

    def history_view(self, request, object_id, extra_context=None):
        self._scope_guard(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._scope_guard(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        return _scope_formfield(formfield, request)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)
        return _scope_formfield(formfield, request)

    def get_list_filter(self, request):
        filters = []
        for item in super().get_list_filter(request):
            if isinstance(item, str) and _is_scoped_relation(self.model, item):
                item = (item, ScopedRelatedFieldListFilter)
            filters.append(item)
        return filters


def _scope_formfield(formfield, request):
    if formfield is not None and hasattr(formfield, "queryset"):
        formfield.queryset = scope_queryset(formfield.queryset, request.user)
    return formfield


def _is_scoped_relation(model, name):
    """Whether a list_filter path (e.g. "depot", "customer__depot") ends in a relation to
    a depot-scoped model, whose choices must then be limited too."""
    try:
        field = get_fields_from_path(model, name)[-1]
    except (FieldDoesNotExist, NotRelationField):
        return False
    related = getattr(field, "related_model", None)
    return field.is_relation and related is not None and hasattr(related, "depot_scope")


class RecoverableAdminMixin:
    """With reversion's VersionAdmin: a row nothing refers to is deleted by
    core.services.master_delete (reversion keeps its last version, the audit log its
    values) and can be recovered from the list's "Recover deleted" page.

    That page only recovers: a version of this screen's model whose row no longer exists
    (any other id is a 404). Reversion writes the row back from the version, the form's
    changes are saved by the screen's service, and master_recovered checks the row and
    audits it, all in one transaction: a refusal rolls back the whole recovery."""

    def delete_model(self, request, obj):
        _refusable(master_delete, obj=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                _refusable(master_delete, obj=obj, actor=request.user)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except _DeleteRefused as refused:
            return self._refused(request, refused)

    def response_action(self, request, queryset):
        try:
            return super().response_action(request, queryset)
        except _DeleteRefused as refused:
            return self._refused(request, refused)

    def _refused(self, request, refused):
        messages.error(request, " ".join(refused.error.messages))
        opts = self.model._meta
        return redirect(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_changelist")

    def recover_view(self, request, version_id, extra_context=None):
        _valid_pk_or_404(Version, version_id)
        if not Version.objects.get_deleted(self.model).filter(pk=version_id).exists():
            raise Http404(f"No deleted {self.model._meta.verbose_name} with version {version_id}.")
        request._recovering = True
        return super().recover_view(request, version_id, extra_context)

    def revision_view(self, request, object_id, version_id, extra_context=None):
        # Reverting a row to an old version writes it past every service: not offered
        # (the history pages are simple-history's, read-only).
        raise Http404("Old versions are not reverted here.")

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        if getattr(request, "_recovering", False):
            try:
                master_recovered(obj=obj, actor=request.user)
            except ValidationError as exc:
                raise _Refused(exc) from exc  # the form again, with the refusal on it
        return entry


class _DeleteRefused(Exception):
    def __init__(self, error: ValidationError):
        super().__init__(error)
        self.error = error


def _refusable(service, **kwargs):
    try:
        service(**kwargs)
    except ValidationError as exc:
        raise _DeleteRefused(exc) from exc


class HistoryAdmin(SimpleHistoryAdmin):
    """simple-history's pages, read-only: the history shows what happened, and nothing is
    ever saved from it (its detail page would otherwise save a POST, even for view-only
    users, bypassing every service).

    The list shows each version with a field-by-field table of what changed, in readable
    values (core.admin_history); a version's page shows its values then, the related rows
    an admin's history_related gives, and no form: there is nothing to revert to."""

    object_history_template = "admin/simple_history/object_history.html"
    version_template = "admin/simple_history/version.html"

    def history_view(self, request, object_id, extra_context=None):
        _valid_pk_or_404(self.model, object_id)
        return super().history_view(request, object_id, extra_context)

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        """Each version with who made it, in the page's one query (not one per version)."""
        return history_manager.filter(**{pk_name: object_id}).select_related("history_user")

    def history_view_title(self, request, obj):
        return f"History of {self.history_name(obj)}"

    def history_name(self, obj) -> str:
        """What the history is of, in words (an admin whose model's str is not that
        overrides it)."""
        return str(obj)

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        """Not simple-history's diff (a query per version): render_history_view makes
        the page's own (core.admin_history.versions)."""

    def render_history_view(self, request, template, context, **kwargs):
        if template == self.object_history_template and "page_obj" in context:
            records = list(context["page_obj"].object_list)
            before = admin_history.previous_record(self.model, records[-1]) if records else None
            context["versions"] = admin_history.versions(self.model, records, before)
        return super().render_history_view(request, template, context, **kwargs)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """One version, read-only: its values, what changed from the one before and its
        related rows as they were. Never a form, never saved."""
        if request.method != "GET":
            raise PermissionDenied("History is read-only.")
        _valid_pk_or_404(self.model, object_id)
        _valid_pk_or_404(self.model.history.model, version_id)
        opts = self.model._meta
        record = get_object_or_404(
            self.model.history.select_related("history_user"),
            **{opts.pk.attname: unquote(object_id), "history_id": version_id},
        )
        obj = record.instance
        if not self.has_view_history_or_change_history_permission(request, obj):
            raise PermissionDenied
        before = admin_history.previous_record(self.model, record)
        version = admin_history.versions(self.model, [record], before)[0]
        context = {
            **self.admin_site.each_context(request),
            "title": f"{self.history_name(obj)} as it was on {version.when}",
            "opts": opts,
            "app_label": opts.app_label,
            "original": obj,
            "object_id": object_id,
            "version": version,
            "related_panels": self.history_related(request, record),
            "revert_disabled": True,
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.version_template, context)

    def history_related(self, request, record) -> list[admin_history.HistoryPanel]:
        """The related rows a version's page shows, as they were at the version (an admin
        overrides it: a document's lines, say). None by default."""
        return []


def _valid_pk_or_404(model, object_id):
    """A 404 for an id that cannot be one of `model`'s (letters for a number, a number
    beyond the column's range), before the database is asked and refuses it."""
    field = model._meta.pk
    try:
        value = field.to_python(unquote(object_id))
        field.run_validators(value)  # an integer key's range
    except (ValidationError, ValueError, TypeError):
        raise Http404(f"No {model._meta.verbose_name} with id {object_id!r}.") from None


class DistinctValuesFilter(admin.SimpleListFilter):
    """A filter on a text column whose values are read once per CACHE_SECONDS.

    Django's own filter for such a column runs SELECT DISTINCT over the whole table on
    every page, which on millions of rows costs more than the page itself. Subclass with
    `field` (and `title`); the parameter stays Django's `<field>__exact`.
    """

    field = ""
    CACHE_SECONDS = 300

    def __init__(self, request, params, model, model_admin):
        self.parameter_name = f"{self.field}__exact"
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        from django.core.cache import cache

        model = model_admin.model
        key = f"admin-distinct:{model._meta.label_lower}:{self.field}"
        values = cache.get(key)
        if values is None:
            values = list(
                model._default_manager.order_by(self.field)
                .values_list(self.field, flat=True)
                .distinct()
            )
            cache.set(key, values, self.CACHE_SECONDS)
        return [(value, value) for value in values]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return queryset.filter(**{self.field: self.value()})


class ReadOnlyAdminMixin:
    """A screen that only shows: no add, change or delete here (its rows are written by
    services). Put it before the ModelAdmin base. The change page then shows the row
    read-only to whoever may view it."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _swapped(fields, swaps: dict[str, str]) -> list:
    """`fields` (names, or tuples of names on one line) with each swapped name replaced
    by its display method, each name once."""
    out: list = []
    for field in fields:
        if isinstance(field, list | tuple):
            field = tuple(swaps.get(name, name) for name in field)
        else:
            field = swaps.get(field, field)
        if field not in out:
            out.append(field)
    return out


class ShownReadOnlyAdminMixin:
    """A saved record's fields that the page shows read-only, as a clerk reads them:
    `shown_readonly` maps a field (a model field, or a form-only one such as "starts_on")
    to the ModelAdmin display method shown in its place wherever the user cannot edit it
    (a view-only user, or a field fixed once saved). Money as LKR 12,500.00, not 12500.00;
    never "None" for a form-only field. Put it before the ModelAdmin base."""

    shown_readonly: dict[str, str] = {}

    def _readonly_swaps(self, request, obj, readonly) -> dict[str, str]:
        if obj is None or not self.shown_readonly:
            return {}
        if not self.has_change_permission(request, obj):
            return dict(self.shown_readonly)
        return {name: shown for name, shown in self.shown_readonly.items() if name in readonly}

    def with_shown_readonly(self, request, obj, fields) -> tuple:
        """`fields` (the read-only ones) with the display methods that stand in for them."""
        fields = tuple(fields)
        shown = self._readonly_swaps(request, obj, fields).values()
        return fields + tuple(name for name in shown if name not in fields)

    def shown_fieldsets(self, request, obj, fieldsets) -> list:
        """`fieldsets` with each read-only field swapped for its display method."""
        swaps = self._readonly_swaps(request, obj, self.get_readonly_fields(request, obj))
        if not swaps:
            return list(fieldsets)
        return [
            (title, {**options, "fields": _swapped(options["fields"], swaps)})
            for title, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        return self.with_shown_readonly(request, obj, super().get_readonly_fields(request, obj))

    def get_fieldsets(self, request, obj=None):
        return self.shown_fieldsets(request, obj, super().get_fieldsets(request, obj))
