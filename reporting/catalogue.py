"""The report catalogue: each report is flat rows under fixed column names.

A report either has a `queryset(filters)` (flat SQL: the CSV export streams it through
PostgreSQL COPY) or builds its rows in Python from a few grouped queries (`rows`). Every
report limits its rows to the user's depots (filters.depot_ids).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet

from reporting.filters import Filters, parse_filters


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    total: bool = False  # summed in the table's totals row
    # What a cell opens on the report page (reporting.links): "sale", "customer",
    # "cashups", "audit", "document" (a stock movement's reference); "" for nothing.
    link: str = ""
    money: bool = False  # shown with the currency in the totals row
    # Codes shown by their labels on the page ({"POSTED": "Posted"}).
    choices: tuple[tuple[str, str], ...] = ()


class Linked(str):
    """A cell's text that knows the page it opens (`url`): a row built in Python links
    it without a lookup (reporting.links). Files write it as its text."""

    url: str

    def __new__(cls, text: str, url: str = ""):
        cell = super().__new__(cls, text)
        cell.url = url
        return cell


class Report:
    slug: str = ""
    title: str = ""
    description: str = ""
    columns: tuple[Column, ...] = ()
    # The common filters (reporting.filters.COMMON) whose values the rows follow. Any
    # other one given a value is refused, naming it: a report never looks filtered when
    # it is not. Empty by default: a new report declares what it filters by.
    filters_used: tuple[str, ...] = ()
    options: dict = {}  # report-specific filters: name -> (allowed values, default)
    chart: dict | None = None  # {"x": key, "series": [keys], "kind": "bar"}
    # Whether PostgreSQL's own text output of queryset() is the report's CSV (no
    # timestamps or JSON, whose text would differ from the other formats).
    copy_safe: bool = False

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]

    def filters_from(self, params, user) -> Filters:
        """The filters of a request (or a stored job or schedule) for this report: its
        own options, and only the common filters it uses (FilterError names the rest)."""
        return parse_filters(
            params, user, options=self.options, uses=self.filters_used, report=self.slug
        )

    def queryset(self, filters: Filters) -> QuerySet | None:
        """Flat rows as a values queryset whose keys are the column keys, or None."""
        return None

    def estimate(self, filters: Filters) -> int:
        """About how many rows: large downloads are built in the background."""
        queryset = self.queryset(filters)
        return queryset.count() if queryset is not None else 0

    def rows(self, filters: Filters) -> Iterable[tuple]:
        """Every row as a tuple in column order (streamed: never all in memory)."""
        # values() rows keep their select order, which follows the columns.
        for row in self.queryset(filters).iterator(chunk_size=2000):
            yield tuple(row.values())

    # Whether the rows are in time (newest first, as every such report lists them).
    in_time: bool = False

    def summed(self, filters: Filters) -> list[str]:
        """The keys of the columns the totals row adds up for these filters."""
        return [c.key for c in self.columns if c.total]

    def drill(self, row: dict, filters: Filters) -> str | None:
        """Where a row of a summary leads (another report, already filtered), or None;
        the columns' own links (Column.link) open documents and customers."""
        return None

    def totals(self, filters: Filters) -> dict:
        """Sums of the total columns over all rows (not just the page)."""
        return self.totals_of(filters, self.rows(filters))

    @property
    def totals_in_sql(self) -> bool:
        """Whether totals() is the report's own (an aggregate), not a sum of its rows."""
        return type(self).totals is not Report.totals

    def totals_of(self, filters: Filters, rows: Iterable[tuple]) -> dict:
        """totals() of rows already read (a report page reads a summary's rows once).
        A report whose totals() is its own (in SQL) answers that instead."""
        if self.totals_in_sql:
            return self.totals(filters)
        summed = self.summed(filters)
        if not summed:  # nothing to add up: no need to read a row
            return {}
        positions = [i for i, c in enumerate(self.columns) if c.key in summed]
        sums = {self.columns[i].key: 0 for i in positions}
        for row in rows:
            if self.counts_in_totals(row):
                for i in positions:
                    sums[self.columns[i].key] += row[i] or 0
        return sums

    def counts_in_totals(self, row) -> bool:
        return True


REPORTS: dict[str, Report] = {}


def register(cls):
    REPORTS[cls.slug] = cls()
    return cls


def get_report(slug: str) -> Report | None:
    _load()
    return REPORTS.get(slug)


def all_reports() -> list[Report]:
    _load()
    return list(REPORTS.values())


def _load():
    # The reports register themselves on import.
    from reporting import reports  # noqa: F401
