"""Every write of core data, by concern: users (users.py), the audit log and its anchors
(audit.py), document numbers (numbering.py). Admin, seed, API and the other apps' services
call these, never the ORM directly; they import them from here."""

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
from core.services.numbering import document_number_next
from core.services.users import (
    assignment_guards,
    user_assignment_validate,
    user_create,
    user_logout_everywhere,
    user_role_sync,
)

__all__ = [
    "AUDIT_WRITER_VERSION",
    "GENESIS_HASH",
    "AuditAnchor",
    "AuditAnchorNotSent",
    "AuditChainBroken",
    "assignment_guards",
    "audit_anchor_send",
    "audit_canonical",
    "audit_hash",
    "audit_hash_unkeyed",
    "audit_record",
    "audit_record_many",
    "audit_seal_mac",
    "document_number_next",
    "user_assignment_validate",
    "user_create",
    "user_logout_everywhere",
    "user_role_sync",
]
