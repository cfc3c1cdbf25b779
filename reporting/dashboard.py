"""The admin's dashboard (its home page): figures, charts, a filter and quick actions, for
head office (every depot) and managers (their depots only).

Found by core.dashboard (autodiscovered like admin.py; core never imports reporting) and
drawn by templates/admin/hsh_index.html. Each panel's figures are cached (Django's
cache) under the user's depots, the filter and the day, and say when they were read
("as of 14:05"); `?refresh=1` reads them again. A page served from the cache runs no
query for its figures: the only queries left are the session's, the user's and the
filter's checks.
"""

from collections.abc import Callable
from datetime import datetime

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from core import dashboard
from core.models import Depot
from core.scoping import ALL, visible_depot_ids
from reporting import dashboard_figures as figures
from reporting import dashboard_state as state
from reporting.charts import bar_chart, hbar_chart, line_chart
from reporting.dashboard_period import Period
from reporting.filters import FilterError

VERSION = 1  # bump when a panel's data changes shape
# Panel: (what reads it, the permission it needs, how long its figures are kept).
PANELS: dict[str, tuple[Callable[[Period], dict], str, int]] = {
    "sales": (figures.sales, "sales.view_transaction", 300),
    "top": (figures.top_customers, "sales.view_transaction", 300),
    "receivables": (figures.receivables, "sales.view_transaction", 300),
    "invoices": (figures.invoices, "sales.view_transaction", 300),
    "cylinders": (state.cylinders, "stock.view_stocklevel", 60),
    "low_stock": (state.short_of_stock, "stock.view_reorderlevel", 60),
    "refusals": (state.refusals, "sales.view_syncrefusal", 60),
    "cashups": (state.cashups, "sales.view_cashup", 60),
}
QUICK_ACTIONS = (
    ("New sale", "sales", "transaction"),
    ("Record a payment", "sales", "payment"),
    ("New load sheet", "stock", "distribution"),
    ("New count sheet", "stock", "stockcount"),
)


def cache_key(name: str, period: Period) -> str:
    return f"hsh:dashboard:{VERSION}:{name}:{period.cache_key}"


def panels(period: Period, names: list[str], *, refresh: bool = False) -> dict[str, dict]:
    """{name: {"data", "at"}}: from the cache (one round trip), the rest read now."""
    keys = {name: cache_key(name, period) for name in names}
    found = {} if refresh else cache.get_many(list(keys.values()))
    result, fresh = {}, {}
    for name, key in keys.items():
        if key in found:
            result[name] = found[key]
            continue
        result[name] = {"data": PANELS[name][0](period), "at": timezone.now()}
        fresh.setdefault(PANELS[name][2], {})[key] = result[name]
    for seconds, entries in fresh.items():
        cache.set_many(entries, timeout=_seconds(seconds))
    return result


def _seconds(default: int) -> int:
    return int(getattr(settings, "DASHBOARD_CACHE_SECONDS", default) or default)


def _depot_choices(
    ids: tuple[int, ...] | None, refresh: bool = False
) -> tuple[list[tuple[str, str]], datetime]:
    """The filter's depots: the user's own (`ids`; None: every open depot)."""
    scope = "all" if ids is None else ".".join(map(str, ids)) or "none"
    key = f"hsh:dashboard:{VERSION}:depots:{scope}"
    entry = None if refresh else cache.get(key)
    if entry is None:
        depots = Depot.objects.filter(is_active=True).order_by("code")
        if ids is not None:
            depots = depots.filter(pk__in=ids)
        entry = ([(d.code, d.name) for d in depots], timezone.now())
        cache.set(key, entry, timeout=_seconds(300))
    return entry


@dashboard.board
def dashboard_context(request) -> dict:
    """What the home page shows the user; {"dashboard": {...}} and its HTTP status."""
    user = request.user
    actions = _quick_actions(request)
    try:
        period = Period.from_request(request.GET, user)
    except FilterError as error:
        return {
            "dashboard": {
                "errors": [
                    v if v.startswith("'") else f"{_words(k)}: {v}"  # names its fields
                    for k, v in error.errors.items()
                ],
                "form": {k: request.GET.get(k, "") for k in ("date_from", "date_to", "depot")},
                "actions": actions,
                "depots": _depot_choices(_visible(user))[0],
            },
            "dashboard_status": 400,
        }
    refresh = request.GET.get("refresh") == "1"
    names = [name for name, (_, perm, _) in PANELS.items() if user.has_perm(perm)]
    data = panels(period, names, refresh=refresh)
    depots, _ = _depot_choices(period.depot_ids, refresh)
    query = request.GET.copy()
    query.pop("refresh", None)
    query["refresh"] = "1"
    return {
        "dashboard": {
            "period": period,
            "form": period.form_values(),
            "depots": depots,
            "single_depot": period.depot_ids is not None and len(period.depot_ids) == 1,
            "panels": data,
            "charts": charts(data),
            "actions": actions,
            "refresh": f"?{query.urlencode()}",
            "errors": [],
        }
    }


def _visible(user) -> tuple[int, ...] | None:
    ids = visible_depot_ids(user)
    return None if ids is ALL else tuple(sorted(ids))


def _words(name: str) -> str:
    return {"date_from": "From", "date_to": "To", "depot": "Depot"}.get(name, name)


def _quick_actions(request) -> list[dict]:
    """The add pages the user may open (each ModelAdmin says who may add)."""
    actions = []
    for text, app, model in QUICK_ACTIONS:
        model_admin = admin.site._registry.get(apps.get_model(app, model))
        if model_admin is not None and model_admin.has_add_permission(request):
            actions.append({"text": text, "link": reverse(f"admin:{app}_{model}_add")})
    return actions


def charts(data: dict[str, dict]) -> dict[str, str]:
    """The four charts, drawn from the panels' figures (no query)."""
    out = {}
    if "sales" in data:
        months = data["sales"]["data"]["months"]
        out["trend"] = line_chart(
            [m["label"] for m in months],
            {
                "Sales": [m["amount"] for m in months],
                "A year before": [m["amount_before"] for m in months],
            },
            title="Sales by month, the last 13 months, against a year before",
            money=True,
        )
    if "cylinders" in data:
        rows = data["cylinders"]["data"]["rows"]
        out["stock"] = bar_chart(
            [r["depot"] for r in rows],
            {
                "Full at the depot": [r["full"] for r in rows],
                "Empty at the depot": [r["empty"] for r in rows],
                "On vehicles": [r["vehicle_full"] + r["vehicle_empty"] for r in rows],
                "At customers' sites": [r["held"] for r in rows],
            },
            stacked=True,
            title="Cylinders by depot: full, empty, on vehicles and at customers' sites",
        )
    if "top" in data:
        rows = data["top"]["data"]["rows"]
        out["top"] = hbar_chart(
            [r["label"] for r in rows],
            [r["amount"] for r in rows],
            title="Top 10 customers by amount bought",
            money=True,
        )
    if "sales" in data:
        rows = data["sales"]["data"]["payment"]
        out["payment"] = bar_chart(
            [r["label"] for r in rows],
            {"Sales": [r["count"] for r in rows]},
            title="Sales by payment status",
            width=420,
            height=220,
        )
    return out
