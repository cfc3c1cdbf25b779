"""Benchmarks: each runs its baseline in the same run and prints the ratio.

A benchmark is a module in this package with a `NAME`, a `add_arguments(parser)` and a
`run(args) -> list[dict]`; it is listed in BENCHMARKS below. Results go into BENCHMARKS.md
with the command that produced them.
"""

BENCHMARKS: list[str] = [
    "sale_posting",
    "export",
    "changelists",
    "rate_import",
    "summary",
    "billing_render",
    "sale_posting_tax",
    "sale_posting_full",
    "statement_run",
    "cylinders_held",
    "check_stock",
    "sync_day",
    "dashboard",
    "load",
]
