"""Every write of core data, by concern: users (users.py), depots (depots.py), the audit
log and its anchors (audit.py), document numbers (numbering.py), documents' e-mails to
send (outbox.py). changes.py is what the master-data services of every app share: the
changed fields, old and new. Admin, seed, API and the other apps' services call these,
never the ORM directly; they import them from here."""

from core.services.audit import (
    AUDIT_WRITER_VERSION,
    GENESIS_HASH,
    AuditAnchor,
    AuditAnchorNotSent,
    AuditChainBroken,
    audit_anchor_send,
    audit_canonical,
    audit_hash,
    audit_hash_unkeyed,
    audit_record,
    audit_record_many,
    audit_seal_mac,
)
from core.services.changes import Changes, changes_apply, instance_clean, readable, values_readable
from core.services.depots import depot_create, depot_open_check, depot_update
from core.services.master import head_office_check, superuser_check
from core.services.numbering import document_number_next
from core.services.outbox import outbox_enqueue
from core.services.recovery import master_delete, master_recovered
from core.services.users import (
    assignment_guards,
    user_assignment_validate,
    user_bootstrap,
    user_create,
    user_logout_everywhere,
    user_password_set,
    user_role_sync,
    user_update,
)

__all__ = [
    "AUDIT_WRITER_VERSION",
    "GENESIS_HASH",
    "AuditAnchor",
    "AuditAnchorNotSent",
    "AuditChainBroken",
    "Changes",
    "assignment_guards",
    "audit_anchor_send",
    "audit_canonical",
    "audit_hash",
    "audit_hash_unkeyed",
    "audit_record",
    "audit_record_many",
    "audit_seal_mac",
    "changes_apply",
    "depot_create",
    "depot_open_check",
    "depot_update",
    "document_number_next",
    "head_office_check",
    "instance_clean",
    "master_delete",
    "master_recovered",
    "outbox_enqueue",
    "readable",
    "superuser_check",
    "user_assignment_validate",
    "user_bootstrap",
    "user_create",
    "user_logout_everywhere",
    "user_password_set",
    "user_role_sync",
    "user_update",
    "values_readable",
]
