"""Report pages in the admin, their downloads, and export-job files."""

import os
import tempfile
from decimal import Decimal
from itertools import islice

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from core.scoping import ALL, visible_depot_ids
from reporting.catalogue import all_reports, get_report
from reporting.charts import bar_chart
from reporting.display import (
    currency_note,
    filters_in_words,
    refusal_lines,
    refusal_sentence,
    shown,
    total_cell,
)
from reporting.filters import FilterError
from reporting.forms import ReportFilterForm
from reporting.links import page_links
from reporting.models import ExportJob, JobStatus
from reporting.services import download_token_valid, export_job_request
from reporting.writers import cell, csv_chunks, json_chunks, write_xlsx

PAGE_SIZE = 100
READ_ONCE = 2_000  # rows a page reads whole (a summary's), for its totals and chart


def _context(request, **extra):
    return {**admin.site.each_context(request), **extra}


def report_index(request):
    return TemplateResponse(
        request, "reporting/index.html", _context(request, title="Reports", reports=all_reports())
    )


def report_view(request, slug):
    return report_response(
        request, slug, request.GET.get("format", "html"), user=request.user, background=True
    )


FILE_FORMATS = ("json", "csv", "xlsx")


class ReportRefused(Exception):
    """A report request that cannot be answered: an unknown report, format or filter.

    status and code as the API reports them; errors: {parameter: message}; report: the
    report when it exists (its page shows the filter errors).
    """

    def __init__(self, status: int, code: str, message: str, errors=None, report=None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.errors = errors or {}
        self.report = report

    def body(self) -> dict:
        """The one error shape of every report endpoint, the admin's and the API's."""
        from core.api import error_body

        fields = {name: [message] for name, message in self.errors.items()}
        return error_body(self.status, self.code, self.message, fields)


def report_prepare(query, slug, fmt, *, user, formats=FILE_FORMATS, api=True):
    """The report and its parsed filters for a request's query, or ReportRefused.

    Only the filters the report uses are taken (a filter it would ignore is refused,
    named), and `page` and `async` only where they do something: `api` is the field
    API, which sends whole reports and has no background exports."""
    report = get_report(slug)
    if report is None:
        raise ReportRefused(404, "not_found", f"No report {slug!r}.")
    if fmt not in formats:
        message = f"Use json, csv or xlsx; got {fmt!r}."
        raise ReportRefused(400, "invalid", message, {"format": message}, report)
    errors = {}
    try:
        filters = report.filters_from(query, user)
    except FilterError as exc:
        errors = dict(exc.errors)
    errors.update(_parameters_misplaced(query, fmt, api=api))
    if errors:
        message = "; ".join(f"{k}: {v}" for k, v in errors.items())
        raise ReportRefused(400, "invalid", message, errors, report)
    return report, filters


def _parameters_misplaced(query, fmt, *, api) -> dict:
    """{parameter: message} for `page` and `async` where they would do nothing."""
    errors = {}
    page, background = query.get("page"), query.get("async")
    if page not in (None, "") and (api or fmt != "html"):
        errors["page"] = (
            "The API sends the whole report at once; leave out page."
            if api
            else "A download holds the whole report; page is for the report page."
        )
    if background not in (None, ""):
        if api:
            errors["async"] = (
                "The API has no background exports; leave out async, or request a "
                "background export on the report's page in the admin."
            )
        elif fmt not in ("csv", "xlsx"):
            errors["async"] = "async=1 builds a CSV or XLSX download in the background."
        elif background not in ("0", "1"):
            errors["async"] = "Use async=1 to build the download in the background."
    return errors


def xlsx_size_check(report, filters) -> None:
    """An XLSX file is built whole before it is sent: one of more than
    EXPORT_SYNC_MAX_ROWS rows is refused here (the admin builds it as an export job
    instead). CSV and JSON stream in constant memory and are not limited."""
    estimate = report.estimate(filters)
    limit = settings.EXPORT_SYNC_MAX_ROWS
    if estimate > limit:
        message = (
            f"This report has about {estimate:,} rows, more than the {limit:,} an XLSX "
            "download may hold. Narrow the dates or the depot, download it as CSV, or "
            "request a background export in the admin."
        )
        raise ReportRefused(400, "too_many_rows", message, {"format": message}, report)


def report_file(report, filters, fmt):
    """The whole report as a download: streamed CSV or JSON, or an XLSX file."""
    name = f"{report.slug}-{timezone.localdate():%Y%m%d}"
    if fmt == "csv":
        response = StreamingHttpResponse(csv_chunks(report, filters), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    if fmt == "json":
        return StreamingHttpResponse(json_chunks(report, filters), content_type="application/json")
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes (and so removes) it
    write_xlsx(report, filters, handle)
    handle.seek(0)
    return FileResponse(handle, as_attachment=True, filename=f"{name}.xlsx")


def report_response(request, slug, fmt, *, user, background):
    """The report page (html) or a download (json, csv, xlsx) in the admin. A large
    CSV/XLSX download becomes an export job when `background` is set. Refusals are the
    page with its errors, or JSON naming the parameter (the field API has its own view)."""
    formats = ("html", *FILE_FORMATS) if background else FILE_FORMATS
    try:
        report, filters = report_prepare(
            request.GET, slug, fmt, user=user, formats=formats, api=not background
        )
    except ReportRefused as refused:
        if fmt == "html" and refused.status == 400 and "format" not in refused.errors:
            return _page(request, refused.report, None, refused.errors, status=400)
        return JsonResponse(refused.body(), status=refused.status)
    if fmt == "html":
        return _page(request, report, filters, {})
    if (
        background
        and fmt in ("csv", "xlsx")
        and (
            request.GET.get("async") == "1"
            or report.estimate(filters) > settings.EXPORT_SYNC_MAX_ROWS
        )
    ):
        if request.method != "POST":
            # A link (GET) never starts work: the export is asked for with a button (a POST
            # with its CSRF token), so a prefetcher, a crawler or another site's <img> builds
            # nothing.
            return _export_confirm(request, report, filters, fmt)
        job = export_job_request(actor=user, report=slug, filters=filters.as_query(), format=fmt)
        messages.info(request, f"Export #{job.pk} requested: this page shows how far it has got.")
        return redirect("admin:reporting_exportjob_change", job.pk)
    return report_file(report, filters, fmt)


def _export_confirm(request, report, filters, fmt):
    """The page that asks for a background export with a button (see report_response)."""
    query = request.GET.copy()
    for name in ("format", "async", "page"):
        query.pop(name, None)
    back = reverse("reports:report", args=[report.slug])
    return TemplateResponse(
        request,
        "reporting/export_confirm.html",
        _context(
            request,
            title=f"{report.title}: build the file in the background",
            report=report,
            format_name={"csv": "CSV", "xlsx": "Excel"}[fmt],
            filters_shown=filters_in_words(filters.as_query()),
            back_url=f"{back}?{query.urlencode()}" if query else back,
        ),
    )


def _page(request, report, filters, errors, status=200):
    form = ReportFilterForm(request.GET or None, user=request.user, report=report)
    page = _page_number(request)
    rows, links, has_next, totals, chart = [], [], False, {}, ""
    if filters is not None:
        # Where the totals or the chart read every row anyway, the rows are read once (up
        # to READ_ONCE: a summary's, which can take seconds to add up) for the page, its
        # totals and its chart; a long list with totals in SQL is read a page at a time.
        start, end = (page - 1) * PAGE_SIZE, page * PAGE_SIZE + 1
        reads_all = bool(report.chart) or (not report.totals_in_sql and report.summed(filters))
        reads_head = reads_all and start < READ_ONCE  # a page past them reads its own
        head = list(islice(report.rows(filters), READ_ONCE + 1)) if reads_head else []
        whole = head if reads_head and len(head) <= READ_ONCE else None
        if whole is not None or end <= len(head):
            window = head[start:end]
        else:
            window = list(islice(report.rows(filters), start, end))
        has_next = len(window) > PAGE_SIZE
        window = window[:PAGE_SIZE]
        links = page_links(report, window, filters)
        rows = [_row(report, row, links[n]) for n, row in enumerate(window)]
        totals = report.totals_of(filters, whole) if whole is not None else report.totals(filters)
        if report.chart:
            chart = _chart(report, filters, whole)
    query = request.GET.copy()
    query.pop("page", None)
    return TemplateResponse(
        request,
        "reporting/report.html",
        _context(
            request,
            title=report.title,
            report=report,
            form=form,
            errors=errors,
            refusal=refusal_sentence(report, errors) if errors else "",
            refusal_lines=refusal_lines(errors),
            rows=rows,
            totals=[
                total_cell(totals[c.key], c) if c.key in totals else "" for c in report.columns
            ],
            has_totals=bool(totals),
            page=page,
            has_next=has_next,
            chart=chart,
            query=query.urlencode(),
            currency_note=currency_note(),
        ),
        status=status,
    )


def _row(report, row, links):
    """A row of the page: each cell's text, its links, and whether it is a number."""
    cells = []
    for i, (column, value) in enumerate(zip(report.columns, row, strict=True)):
        text = shown(value, column)
        targets = [(text if label is None else label, url) for label, url in links.get(i, [])]
        cells.append(
            {
                "text": text,
                "links": targets,
                "number": isinstance(value, (int, Decimal)) and not isinstance(value, bool),
            }
        )
    return cells


MAX_PAGE = 100_000  # beyond this, narrow the filters or download


def _page_number(request):
    try:
        return min(MAX_PAGE, max(1, int(request.GET.get("page", 1))))
    except ValueError:
        return 1


MAX_CHART_LABELS = 24
MAX_CHART_SERIES = 8


def _chart(report, filters, rows=None):
    """The report's chart: one series per value column, or, for a report grouped by
    `group_by` (the chart's "group" column), one series per group of its first value
    column, stacked where the chart says so. Labels oldest first, the last 24. `rows`:
    the report's rows when already read."""
    spec = report.chart
    x, series_keys = spec["x"], spec["series"]
    position = {c.key: i for i, c in enumerate(report.columns)}
    group = spec.get("group")
    grouped: dict[str, dict[str, float]] = {}
    names: dict[str, None] = {}
    labels_of = {c.key: c.label for c in report.columns}
    for row in report.rows(filters) if rows is None else rows:
        label = str(cell(row[position[x]]))
        sums = grouped.setdefault(label, {})
        if group:
            name = str(cell(row[position[group]])) or "(none)"
            pairs = [(name, row[position[series_keys[0]]])]
        else:
            pairs = [(labels_of[key], row[position[key]]) for key in series_keys]
        for name, value in pairs:
            names.setdefault(name)
            sums[name] = sums.get(name, 0) + float(value or 0)
    labels = sorted(grouped)[-MAX_CHART_LABELS:] if spec.get("sort", True) else list(grouped)
    ordered = list(names)
    if group and len(ordered) > MAX_CHART_SERIES:  # the largest groups, the rest as "Other"
        size = {n: sum(grouped[label].get(n, 0) for label in labels) for n in ordered}
        keep = sorted(ordered, key=lambda n: -size[n])[: MAX_CHART_SERIES - 1]
        for label in labels:
            other = sum(v for n, v in grouped[label].items() if n not in keep)
            grouped[label] = {**{n: grouped[label].get(n, 0) for n in keep}, "Other": other}
        ordered = [*keep, "Other"]
    series = {name: [grouped[label].get(name, 0) for label in labels] for name in ordered}
    money = any(c.money for c in report.columns if c.key in series_keys)
    return bar_chart(
        labels,
        series,
        stacked=bool(spec.get("stacked")),
        title=spec.get("title", report.title),
        money=money,
    )


def job_download(request, pk):
    """The export file: for its requester and head office, or with the signed link that
    a scheduled report's e-mail carries."""
    job = get_object_or_404(ExportJob, pk=pk)
    allowed = (
        job.requested_by_id == request.user.pk
        or visible_depot_ids(request.user) is ALL
        or download_token_valid(job, request.GET.get("token", ""))
    )
    if not allowed:
        raise PermissionDenied("This export belongs to someone else.")
    if job.status != JobStatus.DONE or not job.file:
        raise Http404("The export is not ready.")
    try:
        handle = job.file.open("rb")
    except FileNotFoundError:
        raise Http404("The export file is gone; request it again.") from None
    return FileResponse(handle, as_attachment=True, filename=os.path.basename(job.file.name))
