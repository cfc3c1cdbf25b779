"""The admin header's global search: one box, a customer by code or name, any document by
its number. Each app registers the kinds it owns (as apps register dashboard panels in
core.dashboard); core imports none of them. An app's `search` module (sales/search.py,
stock/search.py, billing/search.py) is imported the first time anyone searches, as the
admin imports each app's `admin` module.

A kind is a function `(user, text) -> list[Hit] | None`: None when the text cannot be one
of its things (a "TX-" number is no payment), so it costs no query. Each kind that can
match runs one query of at most LIMIT + 1 rows, whatever the data: the page's query count
depends on the kinds registered, never on what they find.

Numbers are matched from their start, upper-cased ("tx-2026-0000" finds TX-2026-000042),
which the unique index on each number answers; "2026-000042" without a prefix is tried
under every series. A kind is shown only to a user who may view its admin list, and its
rows are limited to the depots the user may see (core.scoping).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import autodiscover_modules

from core.scoping import scope_queryset

LIMIT = 10  # hits shown per kind; one more is read to say there are more
MIN_LENGTH = 2
MAX_LENGTH = 60
NUMBER = re.compile(r"^([A-Z]+)-[0-9-]*$")
BARE_NUMBER = re.compile(r"^[0-9][0-9-]*$")


@dataclass(frozen=True)
class Hit:
    text: str  # the thing as a clerk reads it: its number, then who and how much
    url: str
    exact: bool = False  # the number or code typed, whole
    document: bool = True  # a document's number (which may open it at once)


@dataclass
class Group:
    title: str
    hits: list[Hit]
    more: bool = False  # LIMIT hits shown, more found
    list_url: str = ""  # the kind's admin list searched for the text, for the rest


@dataclass
class Results:
    text: str
    groups: list[Group] = field(default_factory=list)

    @property
    def exact(self) -> list[Hit]:
        return [hit for group in self.groups for hit in group.hits if hit.exact]

    @property
    def opens(self) -> str:
        """The page to open at once: the one document whose whole number was typed."""
        exact = self.exact
        if len(exact) == 1 and exact[0].document and exact[0].url:
            return exact[0].url
        return ""

    @property
    def count(self) -> int:
        return sum(len(group.hits) for group in self.groups)


Kind = Callable[[Any, str], "Group | None"]
_kinds: list[tuple[int, Kind]] = []
_discovered = False


def kind(order: int = 100) -> Callable[[Kind], Kind]:
    """Register a search kind: `(user, text) -> Group | None`."""

    def register(func: Kind) -> Kind:
        _kinds.append((order, func))
        return func

    return register


def kinds() -> list[Kind]:
    global _discovered
    if not _discovered:
        autodiscover_modules("search")
        _discovered = True
    return [func for _, func in sorted(_kinds, key=lambda item: item[0])]


def search(user: Any, text: str) -> Results:
    text = " ".join(str(text or "").split())[:MAX_LENGTH]
    results = Results(text=text)
    if len(text) < MIN_LENGTH:
        return results
    for func in kinds():
        group = func(user, text)
        if group is not None and group.hits:
            results.groups.append(group)
    return results


# --- helpers for the apps' kinds ------------------------------------------------------------


def model_admin(model: type[Model]) -> Any:
    return admin.site._registry.get(model)


def may_view(user: Any, model: type[Model]) -> bool:
    """Whether `user` may open `model`'s admin list (its ModelAdmin's own rule)."""
    registered = model_admin(model)
    if registered is None:
        return False

    class _Request:  # has_view_permission reads only request.user
        pass

    request = _Request()
    request.user = user  # type: ignore[attr-defined]
    return bool(registered.has_view_permission(request))


def change_url(obj: Model) -> str:
    opts = obj._meta
    try:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return ""


def list_url(model: type[Model], text: str) -> str:
    from urllib.parse import urlencode

    opts = model._meta
    try:
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    except NoReverseMatch:
        return ""
    return f"{url}?{urlencode({'q': text})}"


def number_term(text: str, prefix: str) -> str | None:
    """What a number of series `prefix` typed as `text` starts with, or None when `text`
    cannot be one: "tx-2026-00004" -> "TX-2026-00004"; "2026-000042" -> "TX-2026-000042"."""
    term = text.upper().replace(" ", "")
    named = NUMBER.match(term)
    if named:
        return term if named.group(1) == prefix else None
    if BARE_NUMBER.match(term):
        return f"{prefix}-{term}"
    return None


def grouped(
    title: str,
    model: type[Model],
    rows: list[Any],
    describe: Callable[[Any], str],
    is_exact: Callable[[Any], bool],
    text: str,
    search_list: bool = True,
    documents: bool = True,
) -> Group:
    hits = [Hit(describe(obj), change_url(obj), is_exact(obj), documents) for obj in rows[:LIMIT]]
    more = len(rows) > LIMIT
    return Group(
        title=title,
        hits=hits,
        more=more,
        list_url=list_url(model, text) if more and search_list else "",
    )


def document_kind(
    *,
    order: int,
    title: str,
    model: type[Model],
    prefix: str,
    describe: Callable[[Any], str],
    number_field: str = "number",
    select_related: tuple[str, ...] = (),
    scope: str | None = None,
) -> Kind:
    """Register the documents of one numbered series (TX-, PAY-...): matched from the
    start of their number, newest numbers last, scoped to the user's depots."""

    def find(user: Any, text: str) -> Group | None:
        term = number_term(text, prefix)
        if term is None or not may_view(user, model):
            return None
        queryset: QuerySet[Any] = model._default_manager.filter(
            **{f"{number_field}__startswith": term}
        )
        queryset = scope_queryset(queryset, user, scope)
        if select_related:
            queryset = queryset.select_related(*select_related)
        rows = list(queryset.order_by(number_field)[: LIMIT + 1])
        return grouped(
            title,
            model,
            rows,
            describe,
            lambda obj: getattr(obj, number_field) == term,
            text,
        )

    find.__name__ = f"search_{model._meta.model_name}"
    kind(order)(find)
    return find
