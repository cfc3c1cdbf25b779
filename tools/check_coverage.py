"""Services and selectors are where the business rules live: each such module must have
at least 95 % of its lines run by the tests (the total has its own floor, in .ci/run).

Reads the JSON report of coverage.py (`pytest --cov --cov-report=json:coverage.json`):

    python -m tools.check_coverage [coverage.json]     # exit 1, naming each module below
"""

from __future__ import annotations

import json
import sys
from pathlib import Path, PurePosixPath

MINIMUM = 95.0


def is_rule_module(path: str) -> bool:
    """services.py, a module of a services/ package, or selectors.py."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    return parts[-1] in {"services.py", "selectors.py"} or "services" in parts[:-1]


def below(report: dict[str, object], minimum: float = MINIMUM) -> list[tuple[str, float]]:
    """(module, percent of lines run) of each services/selectors module under `minimum`."""
    files = report.get("files")
    if not isinstance(files, dict):
        raise ValueError("not a coverage.py JSON report (no 'files')")
    found = []
    for path, data in sorted(files.items()):
        summary = data["summary"]
        percent = 100.0 * summary["covered_lines"] / max(summary["num_statements"], 1)
        if is_rule_module(path) and percent < minimum:
            found.append((path, percent))
    return found


def main(argv: list[str]) -> int:
    path = Path(argv[0] if argv else "coverage.json")
    report = json.loads(path.read_text())
    checked = [p for p in report.get("files", {}) if is_rule_module(p)]
    if not checked:
        print(f"{path}: no services or selectors module measured; run pytest with --cov")
        return 1
    failing = below(report)
    for module, percent in failing:
        print(f"{module}: {percent:.1f} % of its lines run by the tests; at least {MINIMUM:g} %")
    if failing:
        print(f"\n{len(failing)} services/selectors module(s) under {MINIMUM:g} %: add tests.")
        return 1
    print(f"{len(checked)} services/selectors modules: each at least {MINIMUM:g} % covered.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
