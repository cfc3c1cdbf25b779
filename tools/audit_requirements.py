"""Known vulnerabilities in the pinned requirements, as CI checks them.

`python -m tools.audit_requirements [requirements files]` runs pip-audit over the pins
(no resolver, no install: the files are pinned whole) and reads its JSON:

- a vulnerability in any pin: printed, exit 1;
- every pin audited and clean: exit 0;
- no pin could be audited (the advisory data is out of reach: CI machines reach the
  package index but not PyPI's JSON API nor OSV): said in words, exit 0, so CI is not
  red for what it cannot see. The README says where to run it instead.

pip-audit alone would print "No known vulnerabilities found" and exit 0 in that last case
(each pin merely skipped), which would be a false all-clear.
"""

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

DEFAULT = ("requirements.txt", "requirements-dev.txt")


def verdict(report: dict) -> tuple[int, list[str]]:
    """Exit code and lines to print for pip-audit's JSON report."""
    deps = report.get("dependencies", [])
    skipped = [d for d in deps if d.get("skip_reason")]
    found = [(d, v) for d in deps for v in d.get("vulns", [])]
    lines = [
        f"{d['name']} {d.get('version', '')}: {v['id']} (fixed in "
        f"{', '.join(v.get('fix_versions') or ['no release yet'])})"
        for d, v in found
    ]
    if found:
        return 1, [f"{len(found)} known vulnerabilities in the pinned requirements:", *lines]
    if deps and len(skipped) == len(deps):
        return 0, [
            "pip-audit could not reach any advisory data from here "
            f"({skipped[0]['skip_reason']}); nothing was audited. "
            "Run `make audit` where PyPI's JSON API or OSV answers (see README)."
        ]
    audited = len(deps) - len(skipped)
    notes = [f"  not audited: {d['skip_reason']}" for d in skipped]
    return 0, [f"No known vulnerabilities in {audited} pinned packages.", *notes]


def main(argv: Sequence[str]) -> int:
    files = list(argv) or [f for f in DEFAULT if Path(f).exists()]
    code = 0
    for name in files:
        run = subprocess.run(  # noqa: S603 - our own tool, our own arguments
            [
                sys.executable,
                "-m",
                "pip_audit",
                "-r",
                name,
                "--no-deps",
                "--disable-pip",
                "--progress-spinner",
                "off",
                "-f",
                "json",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        try:
            report = json.loads(run.stdout)
        except json.JSONDecodeError:
            last = (run.stderr.strip().splitlines() or ["no output"])[-1]
            print(f"{name}: pip-audit did not finish ({last}); nothing was audited.")
            continue
        status, lines = verdict(report)
        print(f"{name}:", *lines, sep="\n  ")
        code = max(code, status)
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
