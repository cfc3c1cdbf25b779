"""Deleting a master-data row nothing refers to (a customer opened by mistake, an empty
depot), and putting it back from reversion's last version (the admin's "Recover
deleted"): each by head office, each on the audit log with the row's values."""

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone
from reversion.models import Revision, Version

from core.db import atomic_with_retry
from core.models import Depot, User
from core.services.audit import audit_record
from core.services.changes import instance_clean, readable, values_readable
from core.services.depots import depot_open_check
from core.services.master import head_office_check

# Never copied into an audit entry, whatever the model.
_SECRET_FIELDS = {"password"}


@atomic_with_retry
def master_delete(*, obj: models.Model, actor: User) -> None:
    """Delete a master-data row nothing refers to (a customer opened by mistake, an empty
    depot), by head office. Reversion keeps its last version first, so that it can be
    recovered (master_recovered); the audit entry `<model>_delete` holds the deleted
    row's values. A row others refer to is refused whole (code "referenced"): close it
    (inactive) instead."""
    model = type(obj)
    opts = model._meta
    head_office_check(actor=actor, what=str(opts.verbose_name_plural).capitalize())
    current = model._default_manager.select_for_update().get(pk=obj.pk)
    label = readable(current)
    # A many-to-many row would be dropped silently (a depot's staff): refuse it too.
    referring = {
        _plural(rel.related_model)
        for rel in opts.related_objects
        if rel.many_to_many and getattr(current, rel.get_accessor_name() or "").exists()
    }
    values = _values(current)
    _snapshot(current, actor=actor)
    if not referring:
        try:
            with transaction.atomic():
                current.delete()
        except ProtectedError as exc:
            referring = {_plural(type(row)) for row in exc.protected_objects}
        except RestrictedError as exc:
            referring = {_plural(type(row)) for row in exc.restricted_objects}
    if referring:
        raise ValidationError(
            f"{str(opts.verbose_name).capitalize()} {label} cannot be deleted: "
            f"{', '.join(sorted(referring))} refer to it. Close it (inactive) instead.",
            code="referenced",
        )
    audit_record(
        actor=actor,
        action=f"{opts.model_name}_delete",
        obj=obj,
        depot=_depot_of(obj, deleted=True),
        data={str(opts.model_name): label, "values": values},
    )


@atomic_with_retry
def master_recovered(*, obj: models.Model, actor: User) -> None:
    """A deleted master-data row put back (the admin's "Recover deleted", which writes
    the row from reversion's last version): checked as a new row would be (every field
    valid, its depot open) and on the audit log as `<model>_recover` with the values it
    came back with. Call in the transaction that wrote it; a refusal rolls it back."""
    model = type(obj)
    opts = model._meta
    head_office_check(actor=actor, what=str(opts.verbose_name_plural).capitalize())
    current = model._default_manager.select_for_update(no_key=True).get(pk=obj.pk)
    instance_clean(current)
    depot = _depot_of(current, deleted=False)
    if depot is not None and isinstance(current._meta.get_field("depot"), models.ForeignKey):
        depot_open_check(depot)
    audit_record(
        actor=actor,
        action=f"{opts.model_name}_recover",
        obj=current,
        depot=depot,
        data={str(opts.model_name): readable(current), "values": _values(current)},
    )


def _snapshot(instance: models.Model, *, actor: User) -> None:
    """Reversion's last version of a row about to be deleted, in a revision of its own:
    what "Recover deleted" offers. Written here rather than by reversion.create_revision,
    which inside another revision (the admin's changelist opens one) would merge into it
    and, saving it at the end, skip every row no longer there."""
    revision = Revision.objects.create(date_created=timezone.now(), user=actor, comment="Deleted")
    Version.objects.create(
        revision=revision,
        object_id=str(instance.pk),
        content_type=ContentType.objects.get_for_model(instance),
        db=instance._state.db or "default",
        format="json",
        serialized_data=serializers.serialize("json", [instance]),
        object_repr=str(instance),
    )


def _plural(model: Any) -> str:
    return str(model._meta.verbose_name_plural)


def _values(instance: models.Model) -> dict[str, Any]:
    names = [
        field.name
        for field in instance._meta.concrete_fields
        if not field.primary_key and field.name not in _SECRET_FIELDS
    ]
    return values_readable(instance, names)


def _depot_of(instance: models.Model, *, deleted: bool) -> Depot | None:
    """The depot an entry about `instance` files under: its own depot field, or itself
    when it is a depot (not once deleted: the entry would refer to a row gone)."""
    if isinstance(instance, Depot):
        return None if deleted else instance
    depot = getattr(instance, "depot", None)
    return depot if isinstance(depot, Depot) else None
