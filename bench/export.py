"""2. Sales-register export of the whole dataset (1,000,000 rows by default).

Each case runs in a fresh process, so its peak RSS is its own:
- csv:  an export job built by `export_job_build` (what a Celery worker runs), CSV;
- copy: baseline, `COPY (the register's own query) TO STDOUT` written to a file;
- xlsx: an export job built by `export_job_build`, XLSX;
- xlsx_bare: baseline, XlsxWriter (constant memory) fed rows fetched beforehand;
  only the writing is timed;
- ie_csv, ie_xlsx: baseline, django-import-export's default export: a ModelResource with
  the register's columns over the sale lines, `export()` to a tablib Dataset, written as
  CSV / XLSX. It is run on --ie-rows lines (it reads each line's sale, depot,
  representative, customer and product one query at a time, and holds every row in
  memory), and compared by rows/s.
Targets: CSV within 2x of COPY, XLSX within 1.25x of the bare writer, peak RSS under
200 MB, both at least 10x import-export's rows/s.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time

from bench import dataset

NAME = "export"


def add_arguments(parser):
    group = parser.add_argument_group(NAME)
    group.add_argument(
        "--ie-rows",
        type=int,
        default=10_000,
        help="sale lines django-import-export exports (10,000; it is slow and holds "
        "every row in memory)",
    )


def run(args):
    dataset.require_postgresql()
    dataset.ensure(args.rows)
    results = {
        case: _child(case, args.ie_rows)
        for case in ("csv", "copy", "xlsx", "xlsx_bare", "ie_csv", "ie_xlsx")
    }
    out = []
    for case, baseline, target in (("csv", "copy", 2.0), ("xlsx", "xlsx_bare", 1.25)):
        mine, base = results[case], results[baseline]
        ie = results[f"ie_{case}"]["rows_per_s"]
        slower = mine["seconds"] / base["seconds"]
        out.append(
            {
                "case": f"{case} ({mine['rows']:,} rows)",
                "seconds": f"{mine['seconds']:.1f}",
                "rows_per_s": f"{mine['rows_per_s']:,.0f}",
                "peak_rss_mb": mine["rss_mb"],
                f"vs_{baseline}": f"{slower:.2f}x time (baseline {base['seconds']:.1f} s, "
                f"{base['rows_per_s']:,.0f} rows/s, {base['rss_mb']} MB)",
                "vs_import_export": f"{mine['rows_per_s'] / ie:.0f}x rows/s",
                "target": f"<= {target}x, < 200 MB, >= 10x",
                "ok": slower <= target and mine["rss_mb"] < 200 and mine["rows_per_s"] >= 10 * ie,
            }
        )
    for case in ("ie_csv", "ie_xlsx"):
        out.append(
            {
                "case": f"{case} ({results[case]['rows']:,} rows)",
                "seconds": f"{results[case]['seconds']:.1f}",
                "rows_per_s": f"{results[case]['rows_per_s']:,.0f}",
                "peak_rss_mb": results[case]["rss_mb"],
            }
        )
    return out


def _child(case, ie_rows):
    """Run one case in a new interpreter; it prints one JSON line."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="hsh_admin.settings")
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench.export", case, str(ie_rows)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"export case {case} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- In the child process --------------------------------------------------------------


def _case(case, ie_rows):
    from django.db import connection

    from reporting.catalogue import get_report
    from reporting.filters import parse_filters

    admin = dataset.actors()
    report = get_report("sales-register")
    # The dataset's dates: sales the posting benchmark adds today stay out.
    scope = {"date_to": dataset.last_day().isoformat()}
    filters = parse_filters(scope, admin, options=report.options)
    target = tempfile.NamedTemporaryFile(suffix=f".{case}", delete=False)  # noqa: SIM115
    target.close()
    try:
        if case in ("csv", "xlsx"):
            return _job(case, admin, scope)
        if case == "copy":
            sql, params = report.queryset(filters).query.sql_with_params()
            started, rows = time.perf_counter(), 0
            statement = f"COPY ({sql}) TO STDOUT WITH (FORMAT CSV)"
            with (
                open(target.name, "wb") as out,
                connection.cursor() as cursor,
                cursor.cursor.copy(statement, params) as cp,
            ):
                for data in cp:
                    out.write(data)
                    rows += bytes(data).count(b"\n")
            return time.perf_counter() - started, rows
        if case == "xlsx_bare":
            import xlsxwriter

            rows = list(report.rows(filters))  # fetched before the clock starts
            started = time.perf_counter()
            workbook = xlsxwriter.Workbook(target.name, {"constant_memory": True})
            sheet = workbook.add_worksheet("register")
            sheet.write_row(0, 0, [c.label for c in report.columns])
            for number, row in enumerate(rows, start=1):
                sheet.write_row(number, 0, row)
            workbook.close()
            return time.perf_counter() - started, len(rows)
        if case in ("ie_csv", "ie_xlsx"):
            return _import_export(ie_rows, target.name, case[3:])
        raise SystemExit(f"unknown case {case}")
    finally:
        os.unlink(target.name)


def _job(fmt, admin, scope):
    """What a worker does for an export job, timed from claim to finished file."""
    from django.core.files.storage import default_storage

    from reporting.models import ExportJob
    from reporting.services import export_job_build

    job = ExportJob.objects.create(
        requested_by=admin, report="sales-register", filters=scope, format=fmt
    )
    started = time.perf_counter()
    job = export_job_build(job_id=job.pk)
    seconds = time.perf_counter() - started
    if job.status != "DONE":
        raise SystemExit(f"the export job failed: {job.error}")
    default_storage.delete(job.file.name)
    return seconds, job.row_count


def _import_export(limit, path, fmt):
    from import_export import fields, resources

    from sales.models import TransactionLine

    columns = {
        "date": "transaction__created_at",
        "number": "transaction__number",
        "status": "transaction__status",
        "depot": "transaction__depot__code",
        "sales_rep": "transaction__sales_rep__username",
        "customer_code": "transaction__customer__code",
        "customer_name": "transaction__customer__name",
        "payment_type": "transaction__payment_type",
        "product": "product__code",
        "quantity": "quantity",
        "empties_returned": "empties_returned",
        "rate": "rate",
        "amount": "subtotal",
    }

    class Meta:
        model = TransactionLine
        fields = tuple(columns)

    attrs = {
        name: fields.Field(attribute=attribute, column_name=name)
        for name, attribute in columns.items()
    }
    RegisterResource = type("RegisterResource", (resources.ModelResource,), {**attrs, "Meta": Meta})
    queryset = TransactionLine.objects.order_by(
        "transaction__created_at", "transaction__number", "product__code"
    )[:limit]
    started = time.perf_counter()
    data = RegisterResource().export(queryset=queryset)
    with open(path, "wb") as out:
        out.write(data.export(fmt) if fmt == "xlsx" else data.export(fmt).encode())
    return time.perf_counter() - started, len(data)


def _peak_rss_mb():
    """This process's peak resident memory. VmHWM belongs to the process's own memory,
    which starts afresh at exec; ru_maxrss would also count the parent's, from before
    the exec."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def main():
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hsh_admin.settings")
    django.setup()
    case, ie_rows = sys.argv[1], int(sys.argv[2])
    seconds, rows = _case(case, ie_rows)
    rss_mb = _peak_rss_mb()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rows": rows,
                "rows_per_s": rows / seconds,
                "rss_mb": rss_mb,
            }
        )
    )


if __name__ == "__main__":
    main()
