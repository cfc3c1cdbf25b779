"""Writes of business models outside services that are allowed, each with its reason.

tools/check_service_writes.py reads this. An entry allows one kind of write (`method`) of
one model in one file; `method` is the call's name (save, create, update, ...) or, for an
admin, the Django hook it inherits (save_model, delete_model, delete_queryset,
formset.save) or reversion's page (recover_view, revision_view). An entry that allows
nothing any more fails the check: remove it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tools.check_service_writes import Finding


@dataclass(frozen=True)
class Allowed:
    path: str
    model: str
    method: str
    reason: str

    def matches(self, finding: Finding) -> bool:
        return (self.path, self.model, self.method) == (
            finding.path,
            finding.model,
            finding.method,
        )

    def __str__(self) -> str:
        return f"{self.path}: {self.model}.{self.method}"


_IDEMPOTENCY = (
    "the Idempotency-Key store is request bookkeeping of the API's idempotent wrapper, "
    "written in the posting's own transaction; the document itself is posted by its service"
)
_CONFIRM_PAGE = (
    "a confirm page's one-time token, claimed in the transaction that calls the service; "
    "form bookkeeping, not a business record"
)

_RECOVERABLE = (
    "RecoverableAdminMixin.recover_view (the depot and customer screens' \"Recover "
    "deleted\"): reversion's revert writes the row back from its last version. The mixin "
    "answers 404 unless the version is of a deleted row of the screen's own model (the "
    "snapshot core.services.master_delete kept); the form's changes are saved by the "
    "screen's service and core.services.master_recovered checks the row (fields, open "
    "depot) and writes the audit entry, in the revert's transaction"
)

ALLOWED: tuple[Allowed, ...] = (
    Allowed("core/admin_mixins.py", "its model", "recover_view", _RECOVERABLE),
    Allowed("core/admin_flow.py", "SubmissionToken", "create", _CONFIRM_PAGE),
    Allowed("core/api/replay.py", "IdempotencyKey", "create", _IDEMPOTENCY),
    Allowed("core/api/replay.py", "IdempotencyKey", "save", _IDEMPOTENCY),
    Allowed(
        "core/tasks.py",
        "IdempotencyKey",
        "update",
        "housekeeping: old keys keep their row (a key posts once, forever) but drop the "
        "stored response",
    ),
    Allowed(
        "core/tasks.py",
        "SubmissionToken",
        "delete",
        "housekeeping: confirm-page tokens older than a day can no longer be submitted",
    ),
    Allowed(
        "core/apps.py",
        "a model",
        "update",
        "Django's own last_login bookkeeping at sign-in, as a plain UPDATE so that a login "
        "adds no history row; not a business action",
    ),
)
