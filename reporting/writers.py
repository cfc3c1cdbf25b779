"""Report rows out as CSV, XLSX and JSON, in flat memory whatever the row count.

CSV: PostgreSQL COPY of the report's own query when it has one, else a csv.writer over
the streamed rows. XLSX: XlsxWriter in constant-memory mode, written row by row to a file.

Text that a spreadsheet would run as a formula (=, +, -, @, tab or CR first) is written
with a leading quote in both (core.spreadsheets); numbers are written as numbers.
"""

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal

import xlsxwriter
from django.db import connection
from django.db.models import CharField, TextField
from django.utils import timezone

from core.spreadsheets import FORMULA_START_CODES, spreadsheet_text
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


def headings(report: Report) -> list[str]:
    """The column headings of every file: the page's words ("Customer name"), escaped."""
    return [spreadsheet_text(c.label) for c in report.columns]


def _text_cell(value):
    """A value of another type as a spreadsheet cell: its text, escaped."""
    shown = cell(value)
    return spreadsheet_text(shown) if isinstance(shown, str) else shown


# Per value type, what a CSV cell holds (a lookup is cheaper than isinstance chains).
_CSV_CELL = {
    str: spreadsheet_text,
    int: int,
    float: float,
    Decimal: cell,  # with cents: -12.50 stays a number
    date: cell,
    datetime: cell,
    type(None): cell,
}


def csv_chunks(report: Report, filters: Filters, progress=None) -> Iterator[bytes]:
    """The report as CSV, in chunks of about 64 KB."""
    queryset = report.queryset(filters)
    if queryset is not None and connection.vendor == "postgresql" and report.copy_safe:
        statement = _copy_statement(report, queryset)
        if statement is not None:
            yield from _copy_chunks(report, statement, progress)
            return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")  # as COPY writes it
    # A carriage return inside a field must be quoted (COPY does); csv.writer quotes only
    # the characters of its line terminator, so a row holding one is written all quoted.
    quoted = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(headings(report))
    count = 0
    converter = _CSV_CELL.get
    for row in report.rows(filters):
        values = [converter(type(v), _text_cell)(v) for v in row]
        if any(type(v) is str and "\r" in v for v in values):
            quoted.writerow(values)
        else:
            writer.writerow(values)
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


def _copy_statement(report, queryset):
    """COPY of the report's query with its text columns escaped in SQL: (sql, params),
    or None when its columns cannot be matched to the report's (the caller then writes
    the rows in Python, escaped there).

    The query becomes a subquery whose output columns are renamed c0, c1, ...; a text
    column starting like a formula gets a leading quote. The CASE is on text columns
    only: numbers and dates pass through as COPY writes them (-5 stays -5)."""
    query = queryset.query
    first = query.combined_queries[0] if query.combinator else query
    select, _, _ = first.get_compiler(connection=connection).get_select()
    if len(select) != len(report.keys):
        return None
    sql, params = query.sql_with_params()
    codes = ", ".join(map(str, FORMULA_START_CODES))
    columns = []
    for index, (expression, _, _) in enumerate(select):
        name = f"c{index}"
        if isinstance(expression.output_field, (CharField, TextField)):
            name = f"CASE WHEN ascii({name}) IN ({codes}) THEN '''' || {name} ELSE {name} END"
        columns.append(name)
    aliases = ", ".join(f"c{i}" for i in range(len(select)))
    # A plain projection over the subquery keeps its ORDER BY's row order.
    escaped = f"SELECT {', '.join(columns)} FROM ({sql}) AS report ({aliases})"  # noqa: S608
    return f"COPY ({escaped}) TO STDOUT WITH (FORMAT CSV)", params


def _copy_chunks(report, statement, progress):
    """COPY (the report's query) TO STDOUT, re-chunked; the header is the report's
    column headings, as the page and the XLSX file show them."""
    statement, params = statement
    buffer_text = io.StringIO()
    csv.writer(buffer_text, lineterminator="\n").writerow(headings(report))
    yield buffer_text.getvalue().encode()
    buffer, count = bytearray(), 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: COPY streams without loading rows
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
    day_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    moment_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for col, heading in enumerate(headings(report)):
        sheet.write_string(0, col, heading, bold)
        sheet.set_column(col, col, max(10, min(40, len(heading) + 2)))
    # One writer per value type, looked up by type: cheaper than a chain of isinstance
    # checks on each of millions of cells.
    writers = {
        Decimal: lambda r, c, v: sheet.write_number(r, c, float(v), money),
        int: sheet.write_number,
        float: sheet.write_number,
        str: lambda r, c, v: sheet.write_string(r, c, spreadsheet_text(v)),
        type(None): lambda r, c, v: None,
        # Dates are date cells (a spreadsheet sorts and sums by them), in the business
        # time zone; Excel keeps no zone.
        date: lambda r, c, v: sheet.write_datetime(r, c, v, day_format),
        datetime: lambda r, c, v: sheet.write_datetime(
            r, c, timezone.localtime(v).replace(tzinfo=None), moment_format
        ),
    }
    summed = report.summed(filters)
    total_positions = [i for i, c in enumerate(report.columns) if c.key in summed]
    sums = dict.fromkeys(total_positions, 0)

    def other(r, c, v):
        return sheet.write_string(r, c, spreadsheet_text(str(cell(v))))

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
        if total_positions and report.counts_in_totals(row):
            for i in total_positions:
                sums[i] += row[i] or 0
        if progress and count % 5000 == 0:
            progress(count)
    if total_positions:  # on a sheet of their own: the data sheet stays rows only
        totals = workbook.add_worksheet("Totals")
        totals.set_column(0, 0, 30)
        totals.set_column(1, 1, 16)
        totals.write_string(0, 0, "Column", bold)
        totals.write_string(0, 1, f"Total of {count:,} rows", bold)
        for line, i in enumerate(total_positions, start=1):
            value = sums[i]
            totals.write_string(line, 0, report.columns[i].label)
            fmt = money if isinstance(value, Decimal) else None
            totals.write_number(line, 1, float(value), fmt)
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
