"""The audit log in words: an entry's action as a clerk says it ("Sale posted", not
`sale_post`), its data as key -> value rows (nested values flattened, codes by their
labels, money grouped, moments readable), and the admin page of the object it is about.

ACTION_WORDS names every action the services write (`grep -rn 'action=' --include=*.py`);
an action not listed reads as its words ("x_y" -> "X y"), so a new one is never shown as
a code. core.tests.test_audit_log_page checks the list against the code."""

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.dateparse import parse_date, parse_datetime

from core.display import day, moment, money, quantity

ACTION_WORDS: dict[str, str] = {
    "cashup_confirm": "Cash-up confirmed",
    "cashup_post": "Cash-up posted",
    "customer_create": "Customer created",
    "customer_delete": "Customer deleted",
    "customer_recover": "Customer recovered",
    "customer_update": "Customer changed",
    "cylinder_return": "Cylinders returned",
    "cylinders_held_adjust": "Cylinders held corrected",
    "deposit_set": "Deposit rate set",
    "depot_create": "Depot created",
    "depot_delete": "Depot deleted",
    "depot_recover": "Depot recovered",
    "depot_update": "Depot changed",
    "distribution_create": "Distribution posted",
    "distribution_post": "Load sheet posted",
    "empties_dispatch": "Empties dispatched to the filling plant",
    "holdings_replay": "Cylinders held recounted",
    "invoice_printed": "Invoice printed",
    "outbox_resend": "E-mail sent again",
    "payment_record": "Payment recorded",
    "payment_reverse": "Payment reversed",
    "product_create": "Product created",
    "product_delete": "Product deleted",
    "product_recover": "Product recovered",
    "product_update": "Product changed",
    "rate_import_undo": "Rate import undone",
    "rate_set": "Rate set",
    "reorder_level_set": "Reorder level set",
    "sale_post": "Sale posted",
    "sale_void": "Sale voided",
    "statement_issued": "Statement issued",
    "statement_run_start": "Statement run started",
    "stock_adjust": "Stock counted (adjustment)",
    "stock_count_post": "Count sheet posted",
    "stock_receive": "Stock received",
    "stock_transfer": "Stock transferred",
    "stock_write_off": "Stock written off",
    "sync_refusal_dismiss": "Sync refusal dismissed",
    "sync_refusal_repost": "Sync refusal reposted",
    "tax_rate_set": "Tax rate set",
    "user_create": "User created",
    "user_logout_everywhere": "User logged out everywhere",
    "user_password_set": "Password set",
    "user_update": "User changed",
}

# Data keys whose values are money, and codes shown by their labels.
MONEY_KEYS = {
    "amount",
    "balance_after",
    "credit_limit",
    "deposit",
    "deposit_forfeited",
    "deposit_refund",
    "counted_cash",
    "expected",
    "list_price",
    "net",
    "previous",
    "rate",
    "refund",
    "tax",
    "total",
    "variance",
}
CODE_WORDS = {
    "BANK": "Bank transfer",
    "CASH": "Cash",
    "CHEQUE": "Cheque",
    "CREDIT": "Credit",
    "ACCOUNT": "Credited to the account",
    "COLLECTION": "Collection",
    "EMPTY_RETURN": "Empty return",
    "FULL": "Full",
    "EMPTY": "Empty",
    "ADMIN": "Admin (head office)",
    "MANAGER": "Depot manager",
    "SALES": "Sales representative",
}
KEY_WORDS = {
    "occurred_at": "Happened",
    "effective_from": "In force from",
    "sales_rep": "Sales representative",
    "refund_to": "Refund to",
    "balance_after": "Balance after",
    "credit_limit": "Credit limit",
    "email_invoices": "E-mail invoices",
    "deposit_exempt": "Deposit exempt",
    "is_active": "Active",
    "vehicle_no": "Vehicle",
    "idempotency_key": "",  # machinery, not shown
    "tax_rate": "Tax rate (%)",
}


def action_words(action: str) -> str:
    """ "Sale posted" for sale_post; an unknown action_name reads "Action name"."""
    if action in ACTION_WORDS:
        return ACTION_WORDS[action]
    words = action.replace("_", " ").replace(".", " ").strip()
    return words[:1].upper() + words[1:] if words else "Unnamed action"


def key_words(path: str) -> str:
    """A flattened key as words: "lines 1 product" -> "Line 1 product"."""
    parts = path.split(" ")
    if len(parts) > 1 and parts[0] in ("values", "changes"):  # the record's own fields
        parts = parts[1:]
    last = parts[-1]
    if last in KEY_WORDS:
        parts[-1] = KEY_WORDS[last]
    text = " ".join(part.replace("_", " ") for part in parts)
    text = re.sub(r"^lines (\d+)", r"line \1", text)
    text = re.sub(r"^settled (\d+)", r"settled \1:", text)
    return text[:1].upper() + text[1:]


def value_words(key: str, value: Any, *, percent: bool = False) -> str:
    if percent and key in ("rate", "previous", "tax_rate"):
        return f"{value} %"
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return quantity(value) if isinstance(value, int) else str(value)
    if isinstance(value, datetime):
        return moment(value)
    if isinstance(value, date):
        return day(value)
    text = str(value)
    if key in MONEY_KEYS:
        try:
            return money(Decimal(text))
        except (InvalidOperation, ValueError):
            return text
    if text in CODE_WORDS:
        return CODE_WORDS[text]
    if len(text) >= 19 and text[4:5] == "-" and "T" in text:
        moment_value = parse_datetime(text)
        if moment_value is not None:
            return moment(moment_value)
    if len(text) == 10 and text[4:5] == "-":
        day_value = parse_date(text)
        if day_value is not None:
            return day(day_value)
    return text


# Actions whose "rate" is a percentage, not money.
PERCENT_ACTIONS = {"tax_rate_set"}


def data_rows(data: Any, action: str = "") -> list[tuple[str, str]]:
    """An entry's data as (what, value) rows: nested dicts and lists flattened, changes
    ({"old": .., "new": ..}) as "old -> new", machinery keys left out."""
    rows: list[tuple[str, str]] = []
    _walk(data, [], rows, action in PERCENT_ACTIONS)
    return rows


def data_text(data: Any, action: str = "") -> str:
    """An entry's data on one line, as a report's cell reads it: "Number: TX-2026-000149;
    Amount: LKR 114,154.26; Happened: 30 Nov 2026 23:00". Empty values are left out."""
    return "; ".join(
        f"{what}: {value}" for what, value in data_rows(data, action) if value not in ("-", "none")
    )


def _walk(data: Any, path: list[str], rows: list[tuple[str, str]], percent: bool) -> None:
    key = path[-1] if path else ""
    if KEY_WORDS.get(key) == "":
        return
    if isinstance(data, dict):
        if set(data) == {"old", "new"}:
            old = value_words(key, data["old"], percent=percent)
            new = value_words(key, data["new"], percent=percent)
            rows.append((key_words(" ".join(path)), f"{old} → {new}"))
            return
        if not data and path:
            rows.append((key_words(" ".join(path)), "-"))
        for child, value in data.items():
            _walk(value, [*path, str(child)], rows, percent)
        return
    if isinstance(data, list):
        if not data:
            rows.append((key_words(" ".join(path)), "none"))
        elif all(not isinstance(item, (dict, list)) for item in data):
            rows.append(
                (key_words(" ".join(path)), ", ".join(value_words(key, i) for i in data)),
            )
        else:
            for i, item in enumerate(data, 1):
                _walk(item, [*path, str(i)], rows, percent)
        return
    what = key_words(" ".join(path)) if path else "Value"
    rows.append((what, value_words(key, data, percent=percent)))


def object_url(object_type: str, object_id: str) -> str:
    """The admin page of the object an entry is about ("" when it has none)."""
    app_label, _, model_name = object_type.partition(".")
    if not model_name:
        return ""
    try:
        return reverse(f"admin:{app_label}_{model_name}_change", args=[object_id])
    except NoReverseMatch:
        return ""


# What a clerk calls an object type where its model's name says it otherwise.
TYPE_WORDS = {"sales.transaction": "Sale", "sales.cylinderholding": "Cylinders held"}
LABEL_KEYS = ("number", "customer", "product", "username", "depot", "location")


def object_words(object_type: str, object_id: str, data: Any) -> str:
    """What an entry is about, as words: "Sale TX-2026-000149", "Customer C009"."""
    from django.apps import apps

    try:
        name = TYPE_WORDS.get(object_type) or str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        name = object_type.rpartition(".")[2]
    name = name[:1].upper() + name[1:]
    found = data.get if isinstance(data, dict) else (lambda key: None)
    for key in LABEL_KEYS:
        value = found(key)
        if isinstance(value, str) and value:
            return f"{name} {value}"
    return f"{name} #{object_id}"
