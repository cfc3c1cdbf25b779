"""5. The sales-summary report by month x depot over the dataset (1,000,000 sales), as
head office runs it (every depot, no date filter: the worst case).

Timed: the report's rows (what the HTML page, CSV, XLSX and the API all read), median of
--repeat runs. Baselines in the same run: the same GROUP BY over the sales written by
hand in SQL, and the GROUP BY over every line and meter sale joined to its sale (what
the figures are made of, and what the report read before sales carried them). Target:
under 1 s.
"""

import statistics
import time
from decimal import Decimal

from django.db import connection

from bench import dataset

NAME = "summary"

RAW = """
SELECT date_trunc('month', t.created_at AT TIME ZONE %s) AS period, d.code, count(*),
       sum(t.cylinders), sum(t.metered),
       sum(t.total_amount) FILTER (WHERE t.payment_type = 'CASH'),
       sum(t.total_amount) FILTER (WHERE t.payment_type <> 'CASH'), sum(t.total_amount)
  FROM sales_transaction t JOIN core_depot d ON d.id = t.depot_id
 WHERE t.status = 'POSTED'
 GROUP BY 1, 2
 ORDER BY 1 DESC, 2
"""

RAW_LINES = """
WITH items AS (
    SELECT l.transaction_id, l.quantity::numeric AS cylinders, 0::numeric AS metered,
           l.subtotal
      FROM sales_transactionline l
    UNION ALL
    SELECT m.transaction_id, 0, m.quantity, m.subtotal FROM sales_metersale m
)
SELECT date_trunc('month', t.created_at AT TIME ZONE %s) AS period, d.code,
       count(DISTINCT t.id), sum(i.cylinders), sum(i.metered),
       sum(i.subtotal) FILTER (WHERE t.payment_type = 'CASH'),
       sum(i.subtotal) FILTER (WHERE t.payment_type <> 'CASH'), sum(i.subtotal)
  FROM items i
  JOIN sales_transaction t ON t.id = i.transaction_id
  JOIN core_depot d ON d.id = t.depot_id
 WHERE t.status = 'POSTED'
 GROUP BY 1, 2
 ORDER BY 1 DESC, 2
"""


def add_arguments(parser):
    group = parser.add_argument_group(NAME)
    group.add_argument("--summary-repeat", type=int, default=3, help="runs to time (3)")


def _median(repeat, call):
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def run(args):
    from django.conf import settings

    from reporting.catalogue import get_report
    from reporting.filters import parse_filters

    dataset.require_postgresql()
    dataset.ensure(args.rows)
    report = get_report("sales-summary")
    filters = parse_filters(
        {"group_by": "depot", "period": "month"}, dataset.actors(), options=report.options
    )

    def raw(sql):
        with connection.cursor() as cursor:
            cursor.execute(sql, [settings.TIME_ZONE])
            return cursor.fetchall()

    ours, rows = _median(args.summary_repeat, lambda: list(report.rows(filters)))
    base, raw_rows = _median(args.summary_repeat, lambda: raw(RAW))
    lines, line_rows = _median(args.summary_repeat, lambda: raw(RAW_LINES))

    def figures(table):
        return [tuple(Decimal(value or 0) for value in row[2:]) for row in table]

    for other in (raw_rows, line_rows):
        if figures(rows) != figures(other):
            raise SystemExit("the report and the raw SQL disagree")
    return [
        {
            "case": f"month x depot, {len(rows)} rows",
            "report_s": f"{ours:.2f}",
            "raw_sql_s": f"{base:.2f}",
            "ratio": f"{ours / base:.2f}x the raw time",
            "raw_sql_over_lines_s": f"{lines:.2f}",
            "target": "< 1 s",
            "ok": ours < 1.0,
        }
    ]
