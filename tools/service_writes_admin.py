"""The admin half of tools/check_service_writes.py: which Django hooks that write an admin
class inherits (save_model, delete_model, delete_queryset; an inline's formset.save), and
reversion's pages that write a row straight from a stored version (VersionAdmin's
recover_view and revision_view) when the admin does not override them."""

from __future__ import annotations

import ast

from tools.check_service_writes import FileCheck, Finding, _dotted, _last_name

ADMIN_BASES = {"ModelAdmin", "SimpleHistoryAdmin", "VersionAdmin", "UserAdmin"}
INLINE_BASES = {"TabularInline", "StackedInline", "InlineModelAdmin"}


class AdminIndex:
    """Admin classes by name, to find which hooks an admin inherits."""

    def __init__(self, trees: dict[str, ast.Module]):
        self.classes: dict[str, ast.ClassDef] = {}
        for tree in trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef):
                    self.classes.setdefault(node.name, node)

    def _method(self, node: ast.ClassDef, name: str, seen: set[str]) -> ast.FunctionDef | None:
        """The first definition of `name` along the bases known here (depth first)."""
        seen.add(node.name)
        for stmt in node.body:
            if isinstance(stmt, ast.FunctionDef) and stmt.name == name:
                return stmt
        for base in node.bases:
            parent = self.classes.get(_last_name(base))
            found = None
            if parent is not None and parent.name not in seen:
                found = self._method(parent, name, seen)
            if found is not None:
                return found
        return None

    def _attribute(self, node: ast.ClassDef, name: str) -> ast.expr | None:
        for stmt in node.body:
            if isinstance(stmt, ast.Assign) and any(_dotted(t) == name for t in stmt.targets):
                return stmt.value
        for base in node.bases:
            parent = self.classes.get(_last_name(base))
            found = None if parent is None or parent is node else self._attribute(parent, name)
            if found is not None:
                return found
        return None

    def _refused(self, node: ast.ClassDef, permission: str) -> bool:
        method = self._method(node, f"has_{permission}_permission", set())
        if method is None:
            return False
        body = [s for s in method.body if not (isinstance(s, ast.Expr) and _doc(s))]
        return (
            len(body) == 1
            and isinstance(body[0], ast.Return)
            and isinstance(body[0].value, ast.Constant)
            and body[0].value.value is False
        )

    def _bases(self, node: ast.ClassDef, seen: set[str] | None = None) -> set[str]:
        seen = seen if seen is not None else set()
        names = {_last_name(b) for b in node.bases}
        for name in list(names):
            parent = self.classes.get(name)
            if parent is not None and name not in seen:
                seen.add(name)
                names |= self._bases(parent, seen)
        return names

    def defaults(self, path: str, node: ast.ClassDef, check: FileCheck) -> list[Finding]:
        """Writes an admin inherits from Django: save_model, delete_model, delete_queryset."""
        bases = self._bases(node)
        model = check.registered(node)
        if model is None and bases & INLINE_BASES:
            model = check.inline_model(node) or self._inline_of_bases(node, check)
        if model is None or not bases & (ADMIN_BASES | INLINE_BASES):
            return []
        inline = bool(bases & INLINE_BASES)
        live = {p: not self._refused(node, p) for p in ("add", "change", "delete")}
        if inline:
            can_delete = self._attribute(node, "can_delete")
            if isinstance(can_delete, ast.Constant) and can_delete.value is False:
                live["delete"] = False
            writes = [("formset.save", live["add"] or live["change"] or live["delete"])]
        else:
            views = {p: self._method(node, f"{p}_view", set()) is None for p in live}
            saving = (live["add"] and views["add"]) or (live["change"] and views["change"])
            deleting = live["delete"] and views["delete"]
            actions = self._attribute(node, "actions")
            no_actions = isinstance(actions, ast.Constant) and actions.value is None
            writes = [
                ("save_model", saving and self._method(node, "save_model", set()) is None),
                ("delete_model", deleting and self._method(node, "delete_model", set()) is None),
                (
                    "delete_queryset",
                    deleting
                    and not no_actions
                    and self._method(node, "delete_queryset", set()) is None,
                ),
            ]
        found = [
            Finding(path, node.lineno, model, hook, f"{node.name} (Django's default {hook})")
            for hook, inherited in writes
            if inherited
        ]
        if "VersionAdmin" in bases and not inline:
            # reversion's revert writes every field of any stored version to the row:
            # "Recover deleted" (needs add) and "revert to this version" (needs change).
            for view, permission in (("recover_view", "add"), ("revision_view", "change")):
                if live[permission] and self._method(node, view, set()) is None:
                    text = f"{node.name} (reversion's {view}: any version written back)"
                    found.append(Finding(path, node.lineno, model, view, text))
        return found

    def _inline_of_bases(self, node: ast.ClassDef, check: FileCheck) -> str | None:
        for base in node.bases:
            parent = self.classes.get(_last_name(base))
            if parent is not None and parent is not node:
                return check.inline_model(parent) or self._inline_of_bases(parent, check)
        return None


def _doc(stmt: ast.Expr) -> bool:
    return isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)
