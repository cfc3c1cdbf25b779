"""Report rows out as CSV, XLSX and JSON, in flat memory whatever the row count.

CSV: PostgreSQL COPY of the report's own query when it has one, else a csv.writer over
the streamed rows. XLSX: XlsxWriter in constant-memory mode, written row by row to a file.
"""

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal

import xlsxwriter
from django.db import connection
from django.utils import timezone

from reporting.catalogue import Report
from reporting.filters import Filters

CHUNK = 64 * 1024
XLSX_MAX_ROWS = 1_048_575  # Excel's limit, less the heading row


def cell(value):
    """A value as a report shows it: dates ISO, local times, money with cents."""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return "" if value is None else value


def csv_chunks(report: Report, filters: Filters, progress=None) -> Iterator[bytes]:
    """The report as CSV, in chunks of about 64 KB."""
    queryset = report.queryset(filters)
    if queryset is not None and connection.vendor == "postgresql" and report.copy_safe:
        yield from _copy_chunks(report, queryset, progress)
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")  # as COPY writes it
    writer.writerow(report.keys)
    count = 0
    for row in report.rows(filters):
        writer.writerow([cell(v) for v in row])
        count += 1
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            if progress:
                progress(count)
    yield buffer.getvalue().encode()
    if progress:
        progress(count, done=True)


def _copy_chunks(report, queryset, progress):
    """COPY (the report's query) TO STDOUT, re-chunked; the header is our column keys."""
    sql, params = queryset.query.sql_with_params()
    yield (",".join(report.keys) + "\n").encode()
    buffer, count = bytearray(), 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: COPY streams without loading rows
        statement = f"COPY ({sql}) TO STDOUT WITH (FORMAT CSV)"
        with raw.copy(statement, params) as copy:
            for data in copy:
                buffer += data
                count += 1
                if len(buffer) >= CHUNK:
                    yield bytes(buffer)
                    buffer.clear()
                    if progress:
                        progress(count)
    yield bytes(buffer)
    if progress:
        progress(count, done=True)


def write_xlsx(report: Report, filters: Filters, target, progress=None) -> int:
    """Write the report to `target` (a path or file object); return the row count."""
    workbook = xlsxwriter.Workbook(
        target, {"constant_memory": True, "in_memory": False, "strings_to_numbers": False}
    )
    sheet = workbook.add_worksheet(report.title[:31])
    bold = workbook.add_format({"bold": True})
    money = workbook.add_format({"num_format": "#,##0.00"})
    for col, column in enumerate(report.columns):
        sheet.write_string(0, col, column.label, bold)
    # One writer per value type, looked up by type: cheaper than a chain of isinstance
    # checks on each of millions of cells.
    writers = {
        Decimal: lambda r, c, v: sheet.write_number(r, c, float(v), money),
        int: sheet.write_number,
        float: sheet.write_number,
        str: sheet.write_string,
        type(None): lambda r, c, v: None,
    }

    def other(r, c, v):
        return sheet.write_string(r, c, str(cell(v)))

    count = 0
    for count, row in enumerate(report.rows(filters), start=1):
        if count > XLSX_MAX_ROWS:
            workbook.close()
            raise ValueError(
                f"An Excel sheet holds at most {XLSX_MAX_ROWS:,} rows and this report has "
                "more: narrow the filters or download CSV."
            )
        for col, value in enumerate(row):
            writers.get(type(value), other)(count, col, value)
        if progress and count % 5000 == 0:
            progress(count)
    if progress:
        progress(count)  # closing a large workbook takes a while: report before it
    workbook.close()
    if progress:
        progress(count, done=True)
    return count


def json_chunks(report: Report, filters: Filters) -> Iterable[bytes]:
    """A JSON array of flat objects, streamed."""
    yield b"["
    first = True
    for row in report.rows(filters):
        item = {key: _json_value(v) for key, v in zip(report.keys, row, strict=True)}
        yield (b"" if first else b",") + json.dumps(item, ensure_ascii=False).encode()
        first = False
    yield b"]"


def _json_value(value):
    if isinstance(value, (dict, list, int, float, bool)) or value is None:
        return value
    return cell(value)
