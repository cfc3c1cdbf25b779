"""History pages as a clerk reads them (core.admin_mixins.HistoryAdmin): each version
with who made it and when, and a field-by-field table of what changed from the version
before, in readable values (choices by their labels, a related row by its name as it was
then, money grouped with the currency, moments in the business time zone). Nothing on
these pages can be saved.

A related row is named as it was at the version's moment: from its own history when it
has one (a customer renamed since still shows its old name), else as it is now. The
values of a page are read in a fixed number of queries: one per related model, whatever
the number of versions."""

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.text import capfirst

from core.display import amount, day, moment, money, quantity

# Never shown on a history page: secrets and the machinery of idempotent posting.
HIDDEN_FIELDS = {
    "password",
    "idempotency_key",
    "request_fingerprint",
    "hash",
    "prev_hash",
    "token_version",
}
# Decimal fields that hold money when they have two places (a tax rate is a percentage).
PERCENT_FIELDS = {("sales.taxrate", "rate")}
HISTORY_TYPES = {"+": "Created", "~": "Changed", "-": "Deleted"}
NOTHING = "-"


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@dataclass
class Version:
    """One historical record as the page shows it."""

    record: Any
    when: str
    who: str
    what: str
    reason: str
    first: bool = False  # no version before it: its values, not a change
    changes: list[Change] = field(default_factory=list)
    values: list[tuple[str, str]] = field(default_factory=list)


def shown_fields(model) -> list[models.Field]:
    """The tracked model's fields a history page compares, in the model's order."""
    history_model = model.history.model
    tracked = {f.attname for f in history_model._meta.concrete_fields}
    return [
        f
        for f in model._meta.concrete_fields
        if not f.primary_key and f.name not in HIDDEN_FIELDS and f.attname in tracked
    ]


class RelatedNames:
    """The names of the rows versions point to, as they were at each version's moment."""

    def __init__(self, fields: list[models.Field], records: list[Any]):
        self._names: dict[tuple[type, Any], list[tuple[Any, str]]] = {}
        wanted: dict[type, set] = defaultdict(set)
        for f in fields:
            if f.is_relation and f.many_to_one:
                for record in records:
                    value = getattr(record, f.attname)
                    if value is not None:
                        wanted[f.related_model].add(value)
        latest = max((r.history_date for r in records), default=None)
        for related, pks in wanted.items():
            self._read(related, pks, latest)

    def _read(self, related, pks, latest) -> None:
        history = getattr(related, "history", None)
        if history is not None and hasattr(history, "model") and latest is not None:
            pk_name = related._meta.pk.attname
            rows = history.filter(**{f"{pk_name}__in": pks, "history_date__lte": latest})
            for row in rows.order_by("history_date", "history_id"):
                self._names.setdefault((related, getattr(row, pk_name)), []).append(
                    (row.history_date, _name(row.instance))
                )
        missing = [pk for pk in pks if (related, pk) not in self._names]
        for pk, obj in related._default_manager.in_bulk(missing).items():
            self._names[(related, pk)] = [(None, _name(obj))]

    def name(self, related, pk, at) -> str:
        versions = self._names.get((related, pk))
        if not versions:
            return f"{capfirst(related._meta.verbose_name)} #{pk} (no longer exists)"
        if versions[0][0] is None:
            return versions[0][1]
        index = bisect_right([when for when, _ in versions], at)
        return versions[max(index - 1, 0)][1]


def _name(obj) -> str:
    try:
        return str(obj)
    except Exception:  # a __str__ that needs a row not there any more
        return f"{capfirst(obj._meta.verbose_name)} #{obj.pk}"


def readable(f: models.Field, value: Any, *, related: RelatedNames, at) -> str:
    """One field's value as a clerk reads it."""
    if value is None or value == "":
        return NOTHING
    if f.is_relation and f.many_to_one:
        return related.name(f.related_model, value, at)
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(f, models.BooleanField):
        return "Yes" if value else "No"
    if isinstance(f, models.DateTimeField):
        return moment(value)
    if isinstance(f, models.DateField):
        return day(value)
    if isinstance(f, models.DecimalField):
        if (f.model._meta.label_lower, f.name) in PERCENT_FIELDS or f.name.endswith("tax_rate"):
            return f"{amount(value)} %"
        if f.name.endswith("_kg"):
            return f"{amount(value, f.decimal_places)} kg"
        if "reading" in f.name or "meter" in f.name:  # a meter's, not money
            return amount(value, f.decimal_places)
        return money(value) if f.decimal_places == 2 else amount(value, f.decimal_places)
    if isinstance(f, models.IntegerField):
        return quantity(value)
    if isinstance(f, models.JSONField):
        return "; ".join(f"{k}: {v}" for k, v in flatten(value)) or NOTHING
    return str(value)


def flatten(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested dicts and lists as (key, value) pairs: {"a": {"b": 1}} -> [("a b", 1)];
    list items are numbered from 1."""
    if isinstance(data, dict):
        pairs: list[tuple[str, Any]] = []
        for key, value in data.items():
            pairs += flatten(value, f"{prefix} {key}".strip())
        return pairs
    if isinstance(data, list):
        if all(not isinstance(item, (dict, list)) for item in data):
            return [(prefix, ", ".join(str(item) for item in data) or NOTHING)]
        pairs = []
        for i, item in enumerate(data, 1):
            pairs += flatten(item, f"{prefix} {i}".strip())
        return pairs
    return [(prefix, data)]


def label_of(f: models.Field) -> str:
    return capfirst(str(f.verbose_name))


def _what(record, previous) -> str:
    if previous is None and record.history_type == "~":
        return "First version recorded"
    return HISTORY_TYPES.get(record.history_type, "Changed")


def _who(record) -> str:
    user = record.history_user
    return str(user) if user is not None else "The system"


def versions(model, records: list[Any], before: Any | None) -> list[Version]:
    """Each record (newest first) with its changes from the one before it; `before` is
    the record preceding the oldest of `records` (None when that is the first)."""
    fields = shown_fields(model)
    everything = [*records, before] if before is not None else list(records)
    related = RelatedNames(fields, everything)
    shown = []
    chain = [*records, before]
    for record, previous in zip(records, chain[1:], strict=True):
        at = record.history_date
        version = Version(
            record=record,
            when=moment(at),
            who=_who(record),
            what=_what(record, previous),
            reason=(record.history_change_reason or "").strip(),
            first=previous is None,
        )
        for f in fields:
            new = readable(f, getattr(record, f.attname), related=related, at=at)
            version.values.append((label_of(f), new))
            if previous is None:
                if new != NOTHING:
                    version.changes.append(Change(label_of(f), "", new))
                continue
            old_at = previous.history_date
            old = readable(f, getattr(previous, f.attname), related=related, at=old_at)
            if getattr(previous, f.attname) != getattr(record, f.attname):
                version.changes.append(Change(label_of(f), old, new))
        shown.append(version)
    return shown


def previous_record(model, record) -> Any | None:
    """The version just before `record` (None for the first): one query."""
    pk_name = model._meta.pk.attname
    at, history_id = record.history_date, record.history_id
    return (
        model.history.filter(**{pk_name: getattr(record, pk_name)})
        .filter(
            models.Q(history_date__lt=at) | models.Q(history_date=at, history_id__lt=history_id)
        )
        .order_by("-history_date", "-history_id")
        .select_related("history_user")
        .first()
    )


@dataclass
class HistoryPanel:
    """Related rows of a version as they were then (an admin's history_related)."""

    title: str
    headers: list[str]
    rows: list[list[str]]
    empty: str = "None."
