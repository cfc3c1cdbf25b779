"""Lint rule: business models are written by services only.

Fails when code outside services (`services.py` or a `services/` package), migrations and
tests writes a model of core, stock, sales, billing or reporting: `.save()`, `.delete()`, and
`.create()`, `.update()`, `.bulk_create()`, `.bulk_update()`, `.get_or_create()`,
`.update_or_create()` on its manager or a queryset, `add/remove/set/clear/create` on a
related manager; and an admin registered for such a model that saves or deletes through
Django's own `ModelAdmin.save_model`/`delete_model`/`delete_queryset` (or calls them with
super()), or keeps reversion's `VersionAdmin.recover_view`/`revision_view` (which write a
stored version back to the row). A form's `.save()` counts too: a ModelForm writes its model.

It reads the source (no Django needed) with heuristics: a name counts as a model's when it
is one of the models imported, or was bound from one (`x = Depot.objects.get(...)`,
`for x in Customer.objects.filter(...)`, `x: Customer`, `self.x = RateImport(...)`).

Exceptions are explicit: ALLOWED below, one entry per (file, model, write), each with its
reason. An entry that no longer matches anything fails too, so the list only shrinks.

    python -m tools.check_service_writes      # exit 1 and file:line per write found
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tools.service_writes_allowed import ALLOWED, Allowed

ROOT = Path(__file__).resolve().parent.parent
APPS = ("core", "stock", "sales", "billing", "reporting", "hsh_admin")
MODEL_APPS = ("core", "stock", "sales", "billing", "reporting")  # whose models are business models
MODEL_BASES = {"Model", "AbstractUser", "AbstractBaseUser", "AppendOnlyModel"}
WRITES = {
    "save",
    "delete",
    "create",
    "update",
    "bulk_create",
    "bulk_update",
    "get_or_create",
    "update_or_create",
}
RELATED_WRITES = {"add", "remove", "set", "clear", "create", "get_or_create", "update_or_create"}
MANAGERS = {"objects", "_default_manager", "_base_manager"}
ADMIN_HOOKS = {
    "save_model",
    "delete_model",
    "delete_queryset",
    "save_formset",
    "save_related",
    "recover_view",  # reversion's: writes a row back from a stored version
    "revision_view",
}


@dataclass(frozen=True)
class Finding:
    path: str  # relative to the root, with /
    line: int
    model: str
    method: str
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text} writes {self.model} outside a service"


def exempt(path: str) -> bool:
    parts = path.split("/")
    name = parts[-1]
    return (
        "migrations" in parts
        or "tests" in parts
        or "services" in parts[:-1]
        or name in {"services.py", "conftest.py"}
        or name.startswith("test_")
    )


def business_models(root: Path) -> set[str]:
    """Names of the model classes defined in the apps' models modules."""
    classes: dict[str, list[str]] = {}
    for app in MODEL_APPS:
        for path in [root / app / "models.py", *sorted((root / app / "models").glob("*.py"))]:
            if path.is_file():
                for node in ast.walk(ast.parse(path.read_text(), str(path))):
                    if isinstance(node, ast.ClassDef):
                        classes[node.name] = [_last_name(b) for b in node.bases]
    models: set[str] = set()
    while True:
        more = {n for n, bases in classes.items() if set(bases) & (MODEL_BASES | models)}
        if more <= models:
            return models
        models |= more


def _last_name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Subscript):
        return _last_name(node.value)
    return ""


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"
    return None


class FileCheck:
    """The writes in one module."""

    def __init__(self, path: str, tree: ast.Module, models: set[str], own_module: bool):
        self.path, self.tree, self.findings = path, tree, list[Finding]()
        self.imported: dict[str, str] = {}  # local name -> model
        self.modules: set[str] = set()  # local names of the apps' models modules
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                app_models = node.module in {f"{a}.models" for a in MODEL_APPS}
                for alias in node.names:
                    if app_models and alias.name in models:
                        self.imported[alias.asname or alias.name] = alias.name
                    elif node.module in MODEL_APPS and alias.name == "models":
                        self.modules.add(alias.asname or "models")
            if own_module and isinstance(node, ast.ClassDef) and node.name in models:
                self.imported[node.name] = node.name
        self.models = models

    # --- what a name or expression holds

    def model_of(self, node: ast.expr, env: dict[str, str]) -> str | None:
        """The business model an expression's chain starts from, if any."""
        while True:
            if isinstance(node, ast.Name):
                return self.imported.get(node.id) or env.get(node.id)
            if isinstance(node, ast.Attribute):
                dotted = _dotted(node)
                if dotted in env:
                    return env[dotted]
                if isinstance(node.value, ast.Name) and node.value.id in self.modules:
                    return node.attr if node.attr in self.models else None
                node = node.value
            elif isinstance(node, ast.Call):
                name = _last_name(node.func)
                if name == "get_user_model":
                    return "User" if "User" in self.models else None
                node = node.args[0] if name == "type" and node.args else node.func
            elif isinstance(node, ast.Subscript):
                node = node.value
            else:
                return None

    def bindings(self, scope: ast.AST, env: dict[str, str]) -> dict[str, str]:
        """Names (and self.attributes) bound from a model in `scope`, flow-insensitive."""
        env = dict(env)
        for _ in range(2):  # twice, so that `b = a` after `a = Model(...)` is seen
            for node in ast.walk(scope):
                if isinstance(node, ast.Assign | ast.AnnAssign | ast.NamedExpr):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    value = node.value
                    model = value is not None and self.model_of(value, env)
                    if isinstance(node, ast.AnnAssign):
                        model = model or self._annotated(node.annotation)
                    for target in targets:
                        if isinstance(target, ast.Tuple) and target.elts:
                            target = target.elts[0]  # x, created = M.objects.get_or_create()
                        if model and (key := _dotted(target)):
                            env[key] = model
                elif isinstance(node, ast.For | ast.comprehension):
                    model = self.model_of(node.iter, env)
                    if model and (key := _dotted(node.target)):
                        env[key] = model
                elif isinstance(node, ast.arg) and node.annotation is not None:
                    model = self._annotated(node.annotation)
                    if model:
                        env[node.arg] = model
        return env

    def _annotated(self, annotation: ast.expr) -> str | None:
        """The model an annotation names: Depot, Depot | None, "Depot", models.Depot."""
        for node in ast.walk(annotation):
            if isinstance(node, ast.Name) and node.id in self.imported:
                return self.imported[node.id]
            if isinstance(node, ast.Attribute) and _dotted(node):
                module, _, name = str(_dotted(node)).partition(".")
                if module in self.modules and name in self.models:
                    return name
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                try:
                    quoted = ast.parse(node.value, mode="eval").body
                except SyntaxError:
                    continue
                if model := self._annotated(quoted):
                    return model
        return None

    # --- the checks

    def run(self) -> list[Finding]:
        self._scope(self.tree, {}, None)
        return self.findings

    def _scope(self, scope: ast.AST, outer: dict[str, str], admin_model: str | None) -> None:
        env = self.bindings(scope, outer)
        for node in ast.iter_child_nodes(scope):
            self._visit(node, env, admin_model)

    def _visit(self, node: ast.AST, env: dict[str, str], admin_model: str | None) -> None:
        if isinstance(node, ast.ClassDef):
            registered = self.registered(node) or self.inline_model(node)
            self._scope(node, env, registered)
            return
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            inner = dict(env)
            if admin_model:  # admin hooks: obj is the screen's model, queryset its rows
                for arg in node.args.args:
                    if arg.arg in {"obj", "queryset"}:
                        inner[arg.arg] = admin_model
            self._scope(node, inner, admin_model)
            return
        if isinstance(node, ast.Call):
            self._call(node, env, admin_model)
        for child in ast.iter_child_nodes(node):
            self._visit(child, env, admin_model)

    def registered(self, node: ast.ClassDef) -> str | None:
        """The model an admin class is registered for: @admin.register(Model) above it, or
        admin.site.register(Model, ItsAdmin) in the module."""
        calls = [d for d in node.decorator_list if isinstance(d, ast.Call)]
        calls += [
            call
            for call in ast.walk(self.tree)
            if isinstance(call, ast.Call)
            and len(call.args) > 1
            and isinstance(call.args[1], ast.Name)
            and call.args[1].id == node.name
        ]
        for call in calls:
            model = call.args and self.model_of(call.args[0], {})
            if _last_name(call.func) == "register" and model:
                return model
        return None

    def inline_model(self, node: ast.ClassDef) -> str | None:
        for stmt in node.body:
            if isinstance(stmt, ast.Assign) and any(_dotted(t) == "model" for t in stmt.targets):
                return self.model_of(stmt.value, {})
        return None

    def _call(self, call: ast.Call, env: dict[str, str], admin_model: str | None) -> None:
        func = call.func
        if not isinstance(func, ast.Attribute):
            return
        method, receiver = func.attr, func.value
        text = ast.unparse(call)
        text = text if len(text) <= 90 else text[:86] + "...)"
        if isinstance(receiver, ast.Call) and _last_name(receiver.func) == "super":
            if method in ADMIN_HOOKS:
                self._add(call, admin_model or "its model", method, text)
            return
        model = self.model_of(receiver, env)
        chain = list(_chain(receiver))
        managed = any(isinstance(n, ast.Attribute) and n.attr in MANAGERS for n in chain)
        if model is None:
            name = _dotted(receiver) or ""
            if method in {"save", "save_m2m"} and "form" in name.rsplit(".", 1)[-1].lower():
                self._add(call, "a form's model", method, text)
            elif managed and method in WRITES and _unresolved(chain[-1]):
                self._add(call, "a model", method, text)  # type(user).objects..., self.model...
            return
        direct = isinstance(receiver, ast.Name) or _dotted(receiver) in env
        via_queryset = managed or any(isinstance(n, ast.Call) for n in chain)
        related = (
            isinstance(receiver, ast.Attribute)
            and not via_queryset
            and self.model_of(receiver.value, env) is not None
        )
        written = method in WRITES and (direct or via_queryset)
        if written or (related and method in RELATED_WRITES):
            self._add(call, model, method, text)

    def _add(self, node: ast.AST, model: str, method: str, text: str) -> None:
        self.findings.append(Finding(self.path, node.lineno, model, method, text))


def _chain(node: ast.expr) -> Iterator[ast.expr]:
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        yield node
        node = node.func if isinstance(node, ast.Call) else node.value
    yield node


def _unresolved(root: ast.expr) -> bool:
    """A manager reached from a model this check cannot name: type(obj), self.model, a
    model passed in. A name imported from elsewhere (Group, Session) is not ours."""
    return isinstance(root, ast.Name) and root.id in {"type", "self", "cls", "model", "sender"}


def scan(root: Path = ROOT, apps: tuple[str, ...] = APPS) -> list[Finding]:
    """Every write of a business model outside services, migrations and tests."""
    models = business_models(root)
    trees: dict[str, ast.Module] = {}
    for app in apps:
        for path in sorted((root / app).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if not exempt(relative):
                trees[relative] = ast.parse(path.read_text(), relative)
    from tools.service_writes_admin import AdminIndex

    admins = AdminIndex(trees)
    findings: list[Finding] = []
    for relative, tree in trees.items():
        own = relative.split("/")[0] in MODEL_APPS and relative.endswith("/models.py")
        check = FileCheck(relative, tree, models, own)
        findings += check.run()
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                findings += admins.defaults(relative, node, check)
    return sorted(set(findings), key=lambda f: (f.path, f.line, f.method))


def judge(
    findings: list[Finding], allowed: tuple[Allowed, ...] = ALLOWED
) -> tuple[list[Finding], list[Allowed]]:
    """(findings no entry allows, entries that allow nothing)."""
    used: set[Allowed] = set()
    left = []
    for finding in findings:
        entry = next((a for a in allowed if a.matches(finding)), None)
        if entry is None:
            left.append(finding)
        else:
            used.add(entry)
    return left, [a for a in allowed if a not in used]


def main(argv: list[str]) -> int:
    left, stale = judge(scan())
    for finding in left:
        print(finding)
    for entry in stale:
        print(f"tools/service_writes_allowed.py: {entry} allows nothing now: remove it")
    if left:
        print(
            f"\n{len(left)} write(s) of business models outside services: call a service "
            "(core/stock/sales services) instead, or add an entry with its reason to "
            "tools/service_writes_allowed.py."
        )
    if not left and not stale:
        print(f"No business model is written outside services ({len(ALLOWED)} exceptions allowed).")
    return 1 if left or stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
