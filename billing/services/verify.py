"""The keyed code every printed document carries, and its check by the public verify page.

A document's code is the first 10 characters (base32) of HMAC-SHA256, keyed with
AUDIT_HMAC_KEY, of "number|total|hash of the document's audit entry". Only the key holder
can make one; the audit entry's hash is itself keyed and chained (core.AuditLog), so a
document whose total, number or audit entry was changed afterwards no longer matches
the code printed on it."""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from billing.services.compiled import CompiledQuery
from core.models import AuditLog

CODE_LENGTH = 10
# The document series the page knows: number prefix -> (model label, total field, name).
SERIES: dict[str, tuple[str, str, str]] = {
    "TX": ("sales.Transaction", "total_amount", "Tax invoice"),
    "CN": ("sales.CreditNote", "amount", "Credit note"),
    "PAY": ("sales.Payment", "amount", "Receipt"),
    "RET": ("sales.CylinderReturn", "refund_amount", "Cylinder return"),
}
CENTS = Decimal("0.01")


@dataclass(frozen=True)
class Verified:
    """What the public page may show of a genuine document: nothing personal."""

    kind: str
    number: str
    date: datetime
    total: Decimal


def verify_code(*, number: str, total: Decimal, entry_hash: str) -> str:
    """The short keyed code of a document (see the module's docstring)."""
    message = f"{number}|{Decimal(total).quantize(CENTS)}|{entry_hash}".encode()
    digest = hmac.new(settings.AUDIT_HMAC_KEY.encode(), message, hashlib.sha256).digest()
    return base64.b32encode(digest).decode()[:CODE_LENGTH]


def audit_entry(document: models.Model) -> AuditLog | None:
    """The audit entry that recorded the document's posting: its first entry. A credit
    note audited only through its sale's void falls back to that void's entry."""
    entries = AuditLog.objects.order_by("seq")
    entry = entries.filter(
        object_type=document._meta.label_lower, object_id=str(document.pk)
    ).first()
    sale = getattr(document, "transaction", None) if entry is None else None
    if sale is not None:
        entry = entries.filter(
            object_type=sale._meta.label_lower, object_id=str(sale.pk), action="sale_void"
        ).first()
    return entry


def document_total(document: models.Model) -> Decimal:
    prefix = str(getattr(document, "number", "")).split("-", 1)[0]
    total: Decimal = getattr(document, SERIES[prefix][1])
    return total


# The hash of a document's first audit entry, compiled once per process (it is read on
# every rendering of every document: billing.services.compiled).
FIRST_ENTRY_HASH = CompiledQuery(
    lambda object_type, object_id: (
        AuditLog.objects.filter(object_type=object_type, object_id=object_id)
        .order_by("seq")
        .values_list("hash")[:1]
    ),
    object_type=str,
    object_id=str,
)


def document_code(document: models.Model) -> str:
    """The code printed on `document` ("" when it has no audit entry to key it to)."""
    found = FIRST_ENTRY_HASH.rows(
        object_type=document._meta.label_lower, object_id=str(document.pk)
    )
    if found:
        entry_hash: str = found[0][0]
    else:  # a credit note audited through its sale's void, or none
        entry = audit_entry(document)
        if entry is None:
            return ""
        entry_hash = entry.hash
    number = str(getattr(document, "number", ""))
    return verify_code(number=number, total=document_total(document), entry_hash=entry_hash)


def verify_url(document: models.Model, code: str) -> str:
    """What the QR code holds: the verify page's full address for the document, with its
    total, so a scan shows the number, the total and the code at once."""
    number = str(getattr(document, "number", ""))
    path = reverse("billing:verify", kwargs={"number": number, "code": code})
    total = Decimal(document_total(document)).quantize(CENTS)
    return f"{settings.SITE_URL.rstrip('/')}{path}?total={total}"


def document_verify(*, number: str, code: str, total: str | None = None) -> Verified | None:
    """The document numbered `number` when `code` is its code (and `total`, when given,
    its total); None otherwise, the same None whatever was wrong."""
    prefix = number.split("-", 1)[0]
    if prefix not in SERIES or len(code) != CODE_LENGTH or len(number) > 20:
        return None
    label, total_field, kind = SERIES[prefix]
    try:
        model = apps.get_model(label)
    except LookupError:
        return None
    document = model._default_manager.filter(number=number).first()
    if document is None:
        return None
    expected = document_code(document)
    if not expected or not hmac.compare_digest(expected, code.upper()):
        return None
    amount = Decimal(getattr(document, total_field)).quantize(CENTS)
    if total is not None and total.strip() != str(amount):
        return None
    moment: datetime = getattr(document, "created_at", None) or timezone.now()
    return Verified(kind=kind, number=number, date=moment, total=amount)
