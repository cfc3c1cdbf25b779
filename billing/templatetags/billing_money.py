"""Money as billing's documents print it, for templates (the statement's e-mail and its
admin page): `{% load billing_money %}{{ amount|money }}`, `{{ balance|balance }}` (what
is owed, or "... CR" when held in the customer's favour) and `{{ closing|closing }}`
("Amount due: ..." or "In credit: ...")."""

from decimal import Decimal

from django import template

from billing.services.layout import money as money_text
from billing.services.statement_pdf import balance_text, closing_label

register = template.Library()


@register.filter
def money(amount: Decimal | None) -> str:
    return "" if amount is None else money_text(Decimal(amount))


@register.filter
def balance(amount: Decimal | None) -> str:
    return "" if amount is None else balance_text(Decimal(amount))


@register.filter
def closing(amount: Decimal | None) -> str:
    if amount is None:
        return ""
    label, text = closing_label(Decimal(amount))
    return f"{label}: {text}"
