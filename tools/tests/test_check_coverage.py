"""tools/check_coverage.py: a services or selectors module under 95 % fails, by name;
other modules and well-covered ones pass."""

import json

from tools.check_coverage import below, is_rule_module, main


def report(**percents: int) -> dict:
    return {
        "files": {
            path.replace("__", "/") + ".py": {
                "summary": {"covered_lines": percent, "num_statements": 100}
            }
            for path, percent in percents.items()
        }
    }


def test_which_modules_hold_rules():
    assert is_rule_module("sales/services/sales.py")
    assert is_rule_module("reporting/services.py")
    assert is_rule_module("stock/selectors.py")
    assert not is_rule_module("sales/admin/customers.py")
    assert not is_rule_module("core/admin_services.py")


def test_modules_under_95_are_named():
    measured = report(
        sales__services__sales=94, stock__selectors=95, core__services__audit=100, core__admin=10
    )
    assert below(measured) == [("sales/services/sales.py", 94.0)]


def test_main_fails_on_a_module_under_95_and_passes_otherwise(tmp_path, capsys):
    failing, passing = tmp_path / "failing.json", tmp_path / "passing.json"
    failing.write_text(json.dumps(report(reporting__services=80, core__views=0)))
    passing.write_text(json.dumps(report(reporting__services=96, core__views=0)))

    assert main([str(failing)]) == 1
    assert "reporting/services.py: 80.0 %" in capsys.readouterr().out
    assert main([str(passing)]) == 0


def test_a_report_without_services_fails(tmp_path):
    empty = tmp_path / "coverage.json"
    empty.write_text(json.dumps(report(core__views=50)))

    assert main([str(empty)]) == 1
