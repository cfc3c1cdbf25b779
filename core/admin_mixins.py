"""Reusable admin behaviour. Every depot-bound screen uses DepotScopedAdminMixin."""

from django.contrib import admin
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.core.exceptions import FieldDoesNotExist

from core.scoping import scope_queryset


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
