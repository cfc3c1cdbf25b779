"""Changing a master-data row (a customer, a depot, a product, a user) field by field: what
changed, old and new, in values an audit entry can hold.

The services of each app call these inside their own transaction and write the audit
entry themselves; nothing here writes one.
"""

import datetime
import enum
from collections.abc import Collection, Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models.options import Options

# {field: {"old": ..., "new": ...}}, values as readable() gives them.
Changes = dict[str, dict[str, Any]]


def readable(value: Any, field: "models.Field[Any, Any] | None" = None) -> Any:
    """A value as an audit entry shows it: JSON types only, a row by its code (or
    username), amounts as text with the field's decimal places, dates in ISO form."""
    if isinstance(value, enum.Enum):  # a TextChoices member: its stored value
        return value.value
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, models.Model):
        for attribute in ("code", "username"):
            if hasattr(value, attribute):
                return getattr(value, attribute)
        return str(value)
    if isinstance(value, Decimal):
        places = getattr(field, "decimal_places", None)
        if places is not None and value.is_finite():
            value = value.quantize(Decimal(1).scaleb(-places))
        return str(value)
    if isinstance(value, datetime.date | datetime.time):  # datetime is a date too
        return value.isoformat()
    if isinstance(value, Iterable):
        return sorted((readable(item) for item in value), key=str)
    return str(value)


def values_readable(instance: models.Model, names: Iterable[str]) -> dict[str, Any]:
    """The fields `names` of `instance`, readable: a new row's audit entry."""
    return {name: readable(getattr(instance, name), _field(instance, name)) for name in names}


def changes_apply(
    *,
    instance: models.Model,
    data: Mapping[str, Any],
    editable: Collection[str],
    clean_exclude: Iterable[str] = (),
) -> Changes:
    """Set the values in `data` on `instance` (a saved row), validate the row whole
    (full_clean) and save only the fields whose value changed. Returns those fields,
    old and new; nothing is saved when nothing changed.

    `data` may only name fields in `editable` (a code printed on documents, a meter that
    only sales move, are not): any other is refused, naming it (code "not_editable").
    A refusal from full_clean keeps the model's own per-field messages and codes."""
    opts = instance._meta
    refused = {
        name: ValidationError(f"{_label(opts, name)} cannot be changed here.", code="not_editable")
        for name in data
        if name not in editable
    }
    if refused:
        raise ValidationError(refused)
    changes: Changes = {}
    for name, value in data.items():
        field = _field(instance, name)
        if not field.concrete or field.many_to_many:
            raise TypeError(f"{opts.label}.{name} is not a column: change it by its service.")
        if field.is_relation:
            old_key, new_key = getattr(instance, field.attname), getattr(value, "pk", value)
            if old_key == new_key:
                continue
            changes[name] = {"old": readable(getattr(instance, name), field), "new": None}
            setattr(instance, name, value)
        else:
            new = field.to_python(value)
            old = getattr(instance, name)
            if _same(old, new):
                continue
            changes[name] = {"old": readable(old, field), "new": None}
            setattr(instance, name, new)
    if not changes:
        return {}
    instance_clean(instance, exclude=clean_exclude)  # it may normalise (an e-mail's domain)
    for name in list(changes):
        changes[name]["new"] = readable(getattr(instance, name), _field(instance, name))
        if changes[name]["new"] == changes[name]["old"]:
            del changes[name]
    if changes:
        instance.save(update_fields=list(changes))
    return changes


def instance_clean(instance: models.Model, *, exclude: Iterable[str] = ()) -> None:
    """full_clean, with a machine code on every error (a model constraint's message has
    none unless it names one: such errors get "invalid")."""
    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        raise _with_codes(exc) from None


def _with_codes(exc: ValidationError) -> ValidationError:
    def coded(errors: list[ValidationError]) -> list[ValidationError]:
        return [
            error
            if error.code
            else ValidationError(error.message, code="invalid", params=error.params)
            for error in errors
        ]

    if hasattr(exc, "error_dict"):
        return ValidationError({name: coded(errors) for name, errors in exc.error_dict.items()})
    return ValidationError(coded(exc.error_list))


def _same(old: Any, new: Any) -> bool:
    """No change: equal values (Decimal 5 and 5.00, a str and its TextChoices member),
    but never a bool and a number (True == 1)."""
    return old == new and isinstance(old, bool) == isinstance(new, bool)


def _field(instance: models.Model, name: str) -> "models.Field[Any, Any]":
    field = instance._meta.get_field(name)
    if not isinstance(field, models.Field):  # a reverse relation, a generic key
        raise TypeError(f"{instance._meta.label}.{name} is not a field of the row itself.")
    return field


def _label(opts: "Options[Any]", name: str) -> str:
    try:
        field = opts.get_field(name)
    except FieldDoesNotExist:
        return name
    return str(getattr(field, "verbose_name", name)).capitalize()  # a relation's: its name
