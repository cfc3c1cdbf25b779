"""`make bench` / `python -m bench [--only NAME] [benchmark flags]`."""

import argparse
import importlib
import os
import sys

import django


def main(argv=None):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hsh_admin.settings")
    from bench import BENCHMARKS

    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", action="append", help="run only this benchmark")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument(
        "--rows",
        type=int,
        default=1_000_000,
        help="sales in the shared dataset (1,000,000); generated once per database",
    )
    modules = [importlib.import_module(f"bench.{name}") for name in BENCHMARKS]
    for module in modules:
        module.add_arguments(parser)
    args = parser.parse_args(argv)

    if args.list or not modules:
        print("Benchmarks:", ", ".join(BENCHMARKS) or "none yet (see BENCHMARKS.md)")
        return 0
    django.setup()
    for module in modules:
        if args.only and module.NAME not in args.only:
            continue
        print(f"== {module.NAME}")
        for row in module.run(args):
            print("   " + "  ".join(f"{k}={v}" for k, v in row.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
