"""The sync refusals' forms: a refused document's fields, prefilled as the handheld sent
them, for a manager to correct before it is posted again as the representative; and
the reason a refusal is dismissed. Also the document in words, for the list and page."""

from typing import Any

from django import forms

from core.numbers import money_text
from sales.models import PaymentMethod, SyncRefusal
from sales.services.sync import NOTE_MAX_LENGTH
from stock.models import DistributionKind

KIND_WORDS = {"COLLECTION": "Load sheet", "EMPTY_RETURN": "Empty return"}


def document_lines(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The document's lines as sent (a one-line load sheet's product and quantity too),
    each a dict; what is not a line is left out."""
    lines = document.get("lines")
    if isinstance(lines, list):
        return [line for line in lines if isinstance(line, dict)]
    if document.get("product") is not None:
        return [{"product": document.get("product"), "quantity": document.get("quantity")}]
    return []


def _line_words(line: dict[str, Any]) -> str:
    words = f"{line.get('quantity', '?')} x {line.get('product', '?')}"
    if "empties_returned" in line:
        words += f" ({line['empties_returned']} empties back)"
    return words


def _amount_words(value: object) -> str:
    try:
        return money_text(str(value))
    except Exception:
        return str(value)


def document_words(refusal: SyncRefusal, customer_name: str | None = None) -> str:
    """What the document was, in words: "Sale to C001 Hotel: 2 x 12.7KG (2 empties
    back)", "Payment of 1,500.00 (CASH) from C002 ...", "Load sheet: 20 x 12.7KG"."""
    document = refusal.document if isinstance(refusal.document, dict) else {}
    customer = document.get("customer")
    who = f"{customer}{' ' + customer_name if customer_name else ''}" if customer else "?"
    lines = ", ".join(_line_words(line) for line in document_lines(document)) or "no lines"
    if refusal.doc_type == "sale":
        words = f"Sale to {who}: {lines}"
        if document.get("meter_reading") is not None:
            words += f"; meter reading {document['meter_reading']}"
        return words
    if refusal.doc_type == "payment":
        method = document.get("method") or "CASH"
        return f"Payment of {_amount_words(document.get('amount'))} ({method}) from {who}"
    if refusal.doc_type == "distribution":
        return f"{KIND_WORDS.get(str(document.get('kind')), 'Load sheet')}: {lines}"
    return f"Cylinder return from {who}: {lines}"


class RepostForm(forms.Form):
    """The refused document's fields, as the handheld sent them, to correct. Lines are
    one a row: product code, cylinders, and for a sale the empties taken back."""

    occurred_at = forms.CharField(
        label="When it happened",
        required=False,
        help_text="As sent by the handheld (2026-11-30T09:15:00+08:00). Rates, tax and "
        "deposits are those in force then; leave it empty for now.",
    )
    customer = forms.CharField(label="Customer code", required=False, max_length=40)
    lines = forms.CharField(
        label="Lines",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 40}),
        help_text="One line a row: product code, cylinders (and for a sale, empties taken "
        "back), e.g. 12.7KG 2 2.",
    )
    meter_reading = forms.CharField(label="Meter reading", required=False, max_length=20)
    amount = forms.CharField(label="Amount", required=False, max_length=20)
    method = forms.ChoiceField(label="Method", choices=PaymentMethod.choices, required=False)
    reference = forms.CharField(label="Reference", required=False, max_length=100)
    received_on = forms.CharField(label="Received on", required=False, max_length=10)
    kind = forms.ChoiceField(label="Kind", choices=DistributionKind.choices, required=False)
    depot = forms.CharField(label="Depot code", required=False, max_length=20)
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=NOTE_MAX_LENGTH,
        help_text="What you corrected (kept with the refusal and in the audit log).",
    )

    FIELDS = {
        "sale": ("occurred_at", "customer", "lines", "meter_reading"),
        "payment": ("occurred_at", "customer", "amount", "method", "reference", "received_on"),
        "distribution": ("occurred_at", "kind", "depot", "lines"),
        "return": ("occurred_at", "customer", "lines"),
    }

    def __init__(self, *args, request=None, refusal: SyncRefusal, **kwargs):
        self.refusal = refusal
        document = refusal.document if isinstance(refusal.document, dict) else {}
        initial = {
            name: "" if document.get(name) is None else str(document.get(name))
            for name in ("occurred_at", "customer", "meter_reading", "amount", "reference")
        }
        initial.update(
            received_on=str(document.get("received_on") or ""),
            method=document.get("method") or "CASH",
            kind=document.get("kind") or "",
            depot=str(document.get("depot") or ""),
            lines="\n".join(
                " ".join(
                    str(line.get(key))
                    for key in ("product", "quantity", "empties_returned")
                    if line.get(key) is not None
                )
                for line in document_lines(document)
            ),
        )
        given = kwargs.pop("initial", None) or {}
        super().__init__(*args, initial={**initial, **given}, **kwargs)
        keep = {*self.FIELDS[refusal.doc_type], "note"}
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]

    def clean_lines(self) -> list[dict[str, Any]]:
        rows = [row.split() for row in self.cleaned_data.get("lines", "").splitlines()]
        rows = [row for row in rows if row]
        width = 3 if self.refusal.doc_type == "sale" else 2
        lines = []
        for number, row in enumerate(rows, start=1):
            if not 2 <= len(row) <= width or not all(v.isdigit() for v in row[1:]):
                raise forms.ValidationError(
                    f"Row {number}: write the product code and the cylinders"
                    f"{' (and the empties taken back)' if width == 3 else ''} as whole "
                    "numbers, e.g. 12.7KG 2.",
                    code="invalid",
                )
            line: dict[str, Any] = {"product": row[0], "quantity": int(row[1])}
            if len(row) == 3:
                line["empties_returned"] = int(row[2])
            lines.append(line)
        return lines

    def document(self) -> dict[str, Any]:
        """The corrected document, to post: the fields of its type, what was left empty
        left out (an empty occurred_at: now)."""
        sent = self.refusal.document if isinstance(self.refusal.document, dict) else {}
        data = self.cleaned_data
        document: dict[str, Any] = {}
        for name in self.FIELDS[self.refusal.doc_type]:
            value = data.get(name)
            if value in (None, "", []) and name != "lines":
                continue
            document[name] = value
        one_line = len(data.get("lines") or []) == 1
        if self.refusal.doc_type == "distribution" and "lines" not in sent and one_line:
            # sent as one product and quantity: posted the same way
            document.pop("lines")
            document.update(data["lines"][0])
        return document


class DismissForm(forms.Form):
    reason = forms.CharField(
        label="Why it is dismissed",
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Kept with the refusal and in the audit log. Nothing is posted.",
    )

    def __init__(self, *args, request=None, refusal: SyncRefusal, **kwargs):
        self.refusal = refusal
        super().__init__(*args, **kwargs)
