"""Every ValidationError a service raises carries a machine code, and docs/error-codes.md
lists it: the handheld branches on {"error": {"code"}}, people read the message.

A static scan of the services and the helpers they call. A ValidationError passes when
it has code=..., or when everything it wraps does: a dict of coded errors, a list of
them, or a name whose every value in the function is one (errors["x"] = ...,
problems.append(...)). A bare message, ValidationError("...") or {"field": "..."},
fails, naming the file and line.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = (
    "core/services/*.py",
    "stock/services/*.py",
    "sales/services/*.py",
    "reporting/services/*.py",
    # helpers the services call
    "core/idempotency.py",
    "core/numbers.py",
    "sales/selectors.py",
)
DOC = ROOT / "docs" / "error-codes.md"
# Functions that pass on errors built elsewhere (exc.error_list), whose codes the scan
# cannot see; each says how they have one. Their own messages are still scanned. A list
# that may only shrink.
PASSES_ON = {
    "core/services/changes.py:_with_codes": "full_clean's errors; 'invalid' for any without",
    "core/services/users.py:user_assignment_validate": "depot_open_check's refusal (code "
    "depot_inactive) merged with the role's",
}


def scanned_modules() -> list[Path]:
    return sorted(path for pattern in SCANNED for path in ROOT.glob(pattern))


def _is_validation_error(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    return name == "ValidationError"


def _code_of(call: ast.Call) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == "code"), None)


class _Scan:
    """The ValidationError calls of one module that carry no code."""

    def __init__(self, source: str, passes_on: set[str] = frozenset()):
        self.tree = ast.parse(source)
        self.passes_on = passes_on
        self.scope_of: dict[ast.AST, ast.AST] = {}
        for scope in ast.walk(self.tree):
            if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
                for node in ast.walk(scope):
                    self.scope_of[node] = scope  # the innermost wins: walked later

    def uncoded(self) -> list[int]:
        return sorted(
            {
                node.lineno
                for node in ast.walk(self.tree)
                if _is_validation_error(node)
                and _code_of(node) is None
                and not (node.args and self._coded(node.args[0], self.scope_of[node], set()))
            }
        )

    def _coded(self, expr: ast.expr, scope: ast.AST, seen: set[str]) -> bool:
        if _is_validation_error(expr):
            return _code_of(expr) is not None or bool(
                expr.args and self._coded(expr.args[0], scope, seen)
            )
        if isinstance(expr, ast.Dict):
            return all(self._coded(value, scope, seen) for value in expr.values)
        if isinstance(expr, (ast.List, ast.Tuple)):
            return all(self._coded(item, scope, seen) for item in expr.elts)
        if isinstance(expr, (ast.ListComp, ast.GeneratorExp)):
            return self._coded(expr.elt, scope, seen)
        if isinstance(expr, ast.DictComp):
            return self._coded(expr.value, scope, seen)
        if isinstance(expr, ast.IfExp):
            return self._coded(expr.body, scope, seen) and self._coded(expr.orelse, scope, seen)
        if isinstance(expr, ast.Name):
            if expr.id in seen:
                return True  # being checked further up
            stored = self._stored(expr.id, scope)
            seen = seen | {expr.id}
            if stored:
                return all(self._coded(value, scope, seen) for value in stored)
        if isinstance(expr, (ast.Constant, ast.JoinedStr, ast.BinOp)):
            return False  # a message
        # errors built elsewhere (exc.error_list, a parameter): unknown, so refused
        # unless the function is known to pass on coded errors (PASSES_ON)
        return getattr(scope, "name", None) in self.passes_on

    def _stored(self, name: str, scope: ast.AST) -> list[ast.expr]:
        """Every value the function puts in `name`: name = v, name[k] = v, name += v,
        name.append(v) / extend / insert / update."""
        stored = []
        for node in ast.walk(scope):
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node.value:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Subscript):
                        target = target.value
                    if isinstance(target, ast.Name) and target.id == name:
                        stored.append(node.value)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == name
                and node.func.attr in {"append", "extend", "insert", "update"}
            ):
                stored.append(node.args[-1])
        return stored


def uncoded(source: str, passes_on: set[str] = frozenset()) -> list[int]:
    return _Scan(source, passes_on).uncoded()


def passes_on(path: Path) -> set[str]:
    module = f"{path.relative_to(ROOT)}:"
    return {entry.removeprefix(module) for entry in PASSES_ON if entry.startswith(module)}


def codes_in(source: str) -> set[str]:
    """The literal codes of a module's ValidationErrors (a name resolved when the module
    assigns it a string, as core.idempotency's REUSED)."""
    tree = ast.parse(source)
    constants = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    codes = set()
    for node in ast.walk(tree):
        code = _is_validation_error(node) and _code_of(node)
        if isinstance(code, ast.Constant) and isinstance(code.value, str):
            codes.add(code.value)
        elif isinstance(code, ast.Name) and code.id in constants:
            codes.add(constants[code.id])
    return codes


# --- The scan itself finds what it is for ----------------------------------------------

BAD_AND_GOOD = """
def bad(field, value):
    raise ValidationError("A bare message.")                                 # line 3
    raise ValidationError({"depot": "A field's bare message."})              # line 4
    raise ValidationError({field: [f"{value} twice", "and a bare one"]})     # line 5
    errors = {}
    errors["depots"] = "A bare message put in a dict."
    raise ValidationError(errors)                                            # line 8
    problems = []
    problems.append(ValidationError("coded", code="x"))
    problems.append("bare")
    raise ValidationError({"effective_from": problems})                      # line 12
    raise ValidationError(exc.errors)                                        # line 13
    raise ValidationError({"lines": ValidationError("inner, bare")})        # line 14 (inner)


def good(field, exc):
    raise ValidationError("A message.", code="a_code")
    raise forms.ValidationError(f"{field} message.", code="a_code")
    raise ValidationError({"depot": ValidationError("A message.", code="a_code")})
    refusal = ValidationError("A message.", code="a_code")
    raise ValidationError({field: refusal}) if field else refusal
    errors = {}
    errors["depots"] = ValidationError("One.", code="a")
    errors["vehicle_no"] = ValidationError("Two.", code="b")
    raise ValidationError(errors)
    problems = []
    problems.append(ValidationError("coded", code="x"))
    raise ValidationError({"effective_from": problems})
    raise ValidationError(
        {n: ValidationError(m, code="invalid") for n, m in exc.errors.items()}
    )
    raise ValidationError(
        {"lines": [ValidationError(f"{m}", code=e.code) for e in exc.error_list for m in e]}
    )
"""


def test_the_scan_refuses_a_bare_message_in_either_form():
    assert uncoded(BAD_AND_GOOD) == [3, 4, 5, 8, 12, 13, 14]


def test_the_scan_reads_the_codes():
    source = 'REUSED = "key_reused"\nValidationError("m", code=REUSED)\n'
    source += 'ValidationError({"f": ValidationError("m", code="other")})\n'
    assert codes_in(source) == {"key_reused", "other"}


# --- The services ----------------------------------------------------------------------


def test_the_scan_covers_the_services():
    names = {str(path.relative_to(ROOT)) for path in scanned_modules()}
    assert {
        "core/services/users.py",
        "stock/services/checks.py",
        "sales/services/sales.py",
        "reporting/services/schedules.py",
        "core/idempotency.py",
    } <= names


@pytest.mark.parametrize("path", scanned_modules(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_validation_error_a_service_raises_has_a_code(path):
    lines = uncoded(path.read_text(), passes_on(path))
    assert not lines, (
        f"{path.relative_to(ROOT)}: a ValidationError without a code on line(s) "
        f"{lines}. Give it one: ValidationError(message, code=...), or "
        '{"field": ValidationError(message, code=...)}; list it in docs/error-codes.md.'
    )


def test_every_function_that_passes_on_codes_is_still_there():
    for entry in PASSES_ON:
        module, function = entry.split(":")
        tree = ast.parse((ROOT / module).read_text())
        defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert function in defined, f"{entry} is gone: take it off PASSES_ON"


def test_docs_list_every_code():
    listed = set(re.findall(r"^\| `([a-z_]+)`", DOC.read_text(), flags=re.MULTILINE))
    used = set().union(*(codes_in(path.read_text()) for path in scanned_modules()))
    assert used - listed == set(), "codes raised by a service but not in docs/error-codes.md"


def test_a_function_that_passes_on_codes_still_has_its_messages_scanned():
    source = "def passer(exc):\n"
    source += "    raise ValidationError(exc.error_list)\n"
    source += '    raise ValidationError({"f": f"bare {exc}"})\n'
    assert uncoded(source) == [2, 3]
    assert uncoded(source, {"passer"}) == [3]
