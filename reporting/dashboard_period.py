"""What the dashboard is asked for: a date range and a depot, within the user's depots.

The filter is the report pages' own (reporting.filters.parse_filters, with date_from,
date_to and depot only), so a bad date or a depot outside a manager's is refused with the
same words. The range ends on `date_to` (default today) and starts on `date_from`
(default the 30 days up to it); "today", "this month" and "this year" are counted up
to the range's last day, each against the same days a year before.

Links: every figure opens the list or report it summarises, filtered the same way.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from core import display
from core.models import Depot
from reporting.filters import Filters, parse_filters

FILTERS = ("date_from", "date_to", "depot")
DEFAULT_DAYS = 30  # the range when no start is given: the 30 days up to its end


def start_of(day: date) -> datetime:
    """The first moment of `day` in the business time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def months_back(day: date, months: int) -> date:
    """The first of the month `months` before `day`'s month."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Window:
    """Days first..last (both included), and the same days a year before."""

    key: str
    label: str
    first: date
    last: date

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return start_of(self.first), start_of(self.last + timedelta(days=1))

    @property
    def before(self) -> "Window":
        return Window(f"{self.key}_ly", self.label, year_before(self.first), year_before(self.last))


@dataclass(frozen=True)
class Period:
    """The dashboard's filter, checked: the range, the depot, the user's depots."""

    date_from: date
    date_to: date
    depot: Depot | None
    depot_ids: tuple[int, ...] | None  # the user's depots; None: every depot
    today: date

    @classmethod
    def from_request(cls, params, user) -> "Period":
        """Raises reporting.filters.FilterError naming each bad value."""
        given = {k: v for k, v in params.items() if k != "refresh"}
        filters: Filters = parse_filters(given, user, uses=FILTERS, report="The dashboard")
        today = timezone.localdate()
        date_to = filters.date_to or (
            today if not filters.date_from or filters.date_from <= today else filters.date_from
        )
        date_from = filters.date_from or date_to - timedelta(days=DEFAULT_DAYS - 1)
        return cls(
            date_from=date_from,
            date_to=date_to,
            depot=filters.depot,
            depot_ids=None if filters.depot_ids is None else tuple(sorted(filters.depot_ids)),
            today=today,
        )

    @property
    def windows(self) -> list[Window]:
        """Today (the range's last day), this month and this year up to it, the range."""
        last, today = self.date_to, self.today
        current = last == today
        return [
            Window("day", "Today" if current else display.day(last), last, last),
            Window("month", "This month" if current else f"Month to {display.day(last)}",
                   last.replace(day=1), last),
            Window("year", "This year" if current else f"Year to {display.day(last)}",
                   last.replace(month=1, day=1), last),
            Window("range", self.range_label, self.date_from, last),
        ]  # fmt: skip

    @property
    def range_label(self) -> str:
        days = (self.date_to - self.date_from).days + 1
        if self.date_to == self.today and days == DEFAULT_DAYS:
            return f"Last {DEFAULT_DAYS} days"
        if days == 1:
            return display.day(self.date_to)
        return f"{display.day(self.date_from)} to {display.day(self.date_to)}"

    @property
    def range(self) -> Window:
        return self.windows[-1]

    @property
    def scope_key(self) -> str:
        """Whose figures: every depot's, or these depots' ("1.4.7")."""
        return "all" if self.depot_ids is None else ".".join(map(str, self.depot_ids)) or "none"

    @property
    def cache_key(self) -> str:
        """Whose figures (their depots) for which filter, on which day."""
        depot = self.depot.pk if self.depot else "-"
        return f"{self.scope_key}:{depot}:{self.date_from}:{self.date_to}:{self.today}"

    def scoped(self, queryset, field: str = "depot"):
        """Limit `queryset` to the user's depots and the chosen one (`field` leads to it)."""
        if self.depot_ids is not None:
            queryset = queryset.filter(**{f"{field}_id__in": self.depot_ids})
        if self.depot is not None:
            queryset = queryset.filter(**{f"{field}_id": self.depot.pk})
        return queryset

    # --- Links -------------------------------------------------------------------------

    def report(self, slug: str, *, dates: Window | None = None, **params) -> str:
        """A report page, filtered by the depot and (when given) the window's days."""
        query = dict(params)
        if dates is not None:
            query.update(date_from=dates.first.isoformat(), date_to=dates.last.isoformat())
        if self.depot is not None:
            query["depot"] = self.depot.code
        return _url(reverse("reports:report", args=[slug]), query)

    def changelist(
        self, name: str, *, dates: Window | None = None, depot: str = "depot__id__exact", **params
    ) -> str:
        """An admin list (admin:<name>_changelist), filtered by the depot (its list
        filter `depot`) and the window's days (by when the sales happened)."""
        query = dict(params)
        if dates is not None:
            start, end = dates.bounds
            query.update(occurred_at__gte=start.isoformat(" "), occurred_at__lt=end.isoformat(" "))
        if self.depot is not None and depot:
            query[depot] = self.depot.pk
        return _url(reverse(f"admin:{name}_changelist"), query)

    def form_values(self) -> dict:
        return {
            "date_from": self.date_from.isoformat(),
            "date_to": self.date_to.isoformat(),
            "depot": self.depot.code if self.depot else "",
        }


def _url(path: str, query: dict) -> str:
    return f"{path}?{urlencode(query)}" if query else path
