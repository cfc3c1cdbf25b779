"""What a printed document says, apart from how it is drawn: one shape for the tax
invoice, the credit note and the receipt, read by every renderer (A4 and 80 mm PDF,
ESC/POS), so the paper copies of a document always agree."""

import json
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings

from core.numbers import money_text

STYLE_FILE = Path(settings.BASE_DIR) / "templates" / "billing" / "style.json"
DEFAULT_STYLE: dict[str, Any] = {
    "accent": "#1f4e79",
    "font": "Helvetica",
    "font_bold": "Helvetica-Bold",
    "font_size": 9,
    "logo": "",
    "footer": ["Thank you for your business."],
    "titles": {
        "invoice": "TAX INVOICE",
        "credit_note": "CREDIT NOTE",
        "receipt": "RECEIPT",
        "reversal": "PAYMENT REVERSAL NOTICE",
        "statement": "STATEMENT OF ACCOUNT",
        "cylinder_return": "CYLINDER RETURN",
    },
}


@lru_cache(maxsize=1)
def document_style() -> dict[str, Any]:
    """The look a clerk may change without a programmer: templates/billing/style.json
    (accent colour, fonts, font size, logo file, footer lines, document titles).
    A key it leaves out keeps its default."""
    style = dict(DEFAULT_STYLE)
    if STYLE_FILE.exists():
        chosen = json.loads(STYLE_FILE.read_text(encoding="utf-8"))
        # A title the file leaves out keeps its default too (a statement's, say).
        titles = {**DEFAULT_STYLE["titles"], **chosen.get("titles", {})}
        style.update(chosen, titles=titles)
    return style


def money(amount: Decimal) -> str:
    """An amount as printed: thousands separators, two decimals, the CURRENCY setting
    in front when it is set ("LKR 12,500.00")."""
    return money_text(amount)


@dataclass(frozen=True)
class Party:
    name: str
    lines: tuple[str, ...] = ()


def seller_party() -> Party:
    """The seller as every document names it: COMPANY_NAME, its address and tax id."""
    lines = [line.strip() for line in str(settings.COMPANY_ADDRESS).split("\n") if line.strip()]
    if settings.COMPANY_TAX_ID:
        lines.append(f"Tax ID: {settings.COMPANY_TAX_ID}")
    return Party(name=str(settings.COMPANY_NAME), lines=tuple(lines))


def customer_party(customer: Any) -> Party:
    """The customer as every document names it: name (code) and address lines."""
    address = [line.strip() for line in str(customer.address).split("\n") if line.strip()]
    return Party(name=f"{customer.name} ({customer.code})", lines=tuple(address))


@dataclass(frozen=True)
class Column:
    title: str
    width: float  # share of the table's width
    align: str = "left"  # "left" or "right"


@dataclass(frozen=True)
class Document:
    """A printable document: heading, parties, a table, totals and the QR block."""

    kind: str  # "invoice", "credit_note", "receipt", "reversal", "statement", "cylinder_return"
    title: str
    number: str
    date: str  # readable, in the business time zone
    seller: Party
    customer: Party
    facts: tuple[tuple[str, str], ...] = ()  # (label, value) under the heading
    columns: tuple[Column, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    # The same rows for a narrow thermal roll: (description, detail, amount).
    items: tuple[tuple[str, str, str], ...] = ()
    totals: tuple[tuple[str, str], ...] = ()  # (label, amount); the last one is bold
    notes: tuple[str, ...] = ()
    qr: str = ""  # the verification URL (number, total and code)
    code: str = ""  # the short keyed code printed beside the QR
    footer: tuple[str, ...] = field(default_factory=tuple)
