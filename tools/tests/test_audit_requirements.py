"""tools.audit_requirements: pip-audit's report read so that an unreachable advisory
service is never taken for an all-clear, and a vulnerability fails CI."""

from tools.audit_requirements import verdict

SKIP = "Dependency not found on PyPI and could not be audited: django (5.2.19)"


def test_a_vulnerability_fails():
    report = {
        "dependencies": [
            {"name": "django", "version": "5.2.19", "vulns": []},
            {
                "name": "pillow",
                "version": "13.0.0",
                "vulns": [{"id": "PYSEC-2099-1", "fix_versions": ["13.0.1"]}],
            },
        ]
    }
    code, lines = verdict(report)
    assert code == 1
    assert "pillow 13.0.0: PYSEC-2099-1 (fixed in 13.0.1)" in lines


def test_nothing_audited_is_said_and_not_taken_for_clean():
    report = {"dependencies": [{"name": "django", "skip_reason": SKIP}]}
    code, lines = verdict(report)
    assert code == 0
    assert "nothing was audited" in lines[0]
    assert "No known vulnerabilities" not in " ".join(lines)


def test_clean_pins_pass_and_skips_are_listed():
    report = {
        "dependencies": [
            {"name": "django", "version": "5.2.19", "vulns": []},
            {"name": "local-thing", "skip_reason": "not on PyPI"},
        ]
    }
    code, lines = verdict(report)
    assert code == 0
    assert lines[0] == "No known vulnerabilities in 1 pinned packages."
    assert "not audited: not on PyPI" in lines[1]
