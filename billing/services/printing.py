"""A printable copy fetched: the invoice's "printed" status is the audit log's record of it
(action "invoice_printed"), written here so that who printed what, when and how is kept
with the same guarantees as every other business action."""

from django.db import transaction as db_transaction

from core.models import User
from core.services import audit_record
from sales.models import Transaction

INVOICE_PRINTED = "invoice_printed"
FORMATS = ("a4-pdf", "thermal-pdf", "escpos")


@db_transaction.atomic
def invoice_printed_record(*, transaction: Transaction, actor: User, format: str, via: str) -> None:
    """Record that `actor` fetched a printable copy of the sale's invoice (`format`: one of
    FORMATS) through `via` ("api" or "admin")."""
    if format not in FORMATS:
        raise ValueError(f"unknown printed format {format!r}")
    audit_record(
        actor=actor,
        action=INVOICE_PRINTED,
        obj=transaction,
        depot=transaction.depot,
        data={"number": transaction.number, "format": format, "via": via},
    )
