"""The customer page's account side, beside the master data head office edits: balance
and ageing, links to all their sales, payments, credit notes and statements, the rates
in force by what they are for ("12.7 kg rate"), unpaid credit sales and the latest
documents. Money with separators, dates readable, choices by their labels."""

from typing import Any

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString

from core.display import day, label, moment, money
from sales.admin.document_pages import Row
from sales.admin.page_words import rate_label
from sales.models import Customer
from sales.page_selectors import (
    customer_ageing,
    recent_credit_notes,
    recent_payments,
    recent_sales,
)
from sales.selectors import rate_versions_in_force, unpaid_transactions
from stock.models import Product


def customer_links(customer: Customer) -> list[tuple[str, str]]:
    """Every list about the customer, already filtered, and their statement."""
    pk = customer.pk
    sales = reverse("admin:sales_transaction_changelist")
    return [
        ("All sales", f"{sales}?customer__id__exact={pk}"),
        ("Unpaid sales", f"{sales}?customer__id__exact={pk}&unpaid=1"),
        ("All payments", f"{reverse('admin:sales_payment_changelist')}?customer__id__exact={pk}"),
        (
            "All credit notes",
            f"{reverse('admin:sales_creditnote_changelist')}?transaction__customer__id__exact={pk}",
        ),
        ("Statement", reverse("billing:customer_statement", args=[pk])),
        (
            "Issued statements",
            f"{reverse('admin:billing_customerstatement_changelist')}?customer__id__exact={pk}",
        ),
        (
            "Cylinder movements",
            f"{reverse('admin:sales_holdingentry_changelist')}?customer__id__exact={pk}",
        ),
    ]


def balance_words(customer: Customer, balance: Any) -> tuple[str, str]:
    """The balance as a sentence and its colour: owed (against the limit), paid in
    advance, or settled."""
    if balance < 0:
        return f"{money(-balance)} paid in advance", "ok"
    if balance == 0:
        return "Nothing owed", "ok"
    limit = customer.credit_limit
    words = f"{money(balance)} owed" + (
        f" of a {money(limit)} limit" if limit is not None else " (no limit)"
    )
    return words, "bad" if limit is not None and balance > limit else "warn"


def account_context(customer: Customer) -> dict[str, Any]:
    ageing = customer_ageing(customer=customer)
    words, state = balance_words(customer, ageing.balance)
    rows = [
        Row("Terms", label(customer, "payment_type")),
        Row("Balance", words, state),
    ]
    if ageing.overdue:
        rows.append(Row("Over 30 days", money(ageing.overdue), "bad"))
    return {
        "account_rows": rows,
        "ageing": [(name, money(value)) for name, value in ageing.labelled()],
        "ageing_total": money(max(ageing.balance, 0)),
        "links": customer_links(customer),
    }


def rates_panel(customer: Customer, *, may_set: bool = True) -> SafeString:
    """The rates in force; the "Set new rates" link only for whoever may set them."""
    products = list(Product.objects.filter(is_active=True))
    versions = rate_versions_in_force(customer=customer, products=products)
    rates = []
    for product in products:
        version = versions.get(product.pk)
        if version is None or version.rate is None:
            list_price = getattr(product, "list_price", None)
            amount = (
                f"No rate: list price {money(list_price)}" if list_price is not None else "No rate"
            )
            since = ""
        else:
            amount, since = money(version.rate), moment(version.effective_from)
        rates.append((rate_label(product), product.code, amount, since))
    return render_to_string(
        "admin/sales/customer/rates_panel.html",
        {
            "rates": rates,
            "set_url": reverse("admin:sales_customer_rates", args=[customer.pk]) if may_set else "",
            "history_url": f"{reverse('admin:sales_rate_changelist')}"
            f"?customer__id__exact={customer.pk}",
        },
    )


def unpaid_panel(customer: Customer) -> SafeString:
    sales = [
        {
            "number": s.number,
            "url": reverse("admin:sales_transaction_change", args=[s.pk]),
            "date": day(s.occurred_at),
            "total": money(s.total_amount),
            "due": money(s.total_amount - s.amount_paid),
        }
        for s in unpaid_transactions(customer=customer)[:20]
    ]
    return render_to_string(
        "admin/sales/customer/unpaid_panel.html",
        {"sales": sales, "all_url": customer_links(customer)[1][1]},
    )


def recent_panel(customer: Customer) -> SafeString:
    """The last 10 sales, payments and credit notes, each linked (three queries)."""
    change = "admin:sales_{}_change"
    sales = [
        {
            "number": s.number,
            "url": reverse(change.format("transaction"), args=[s.pk]),
            "date": moment(s.occurred_at),
            "what": f"{label(s, 'payment_type')}, {label(s, 'status').lower()}",
            "amount": money(s.total_amount),
        }
        for s in recent_sales(customer=customer)
    ]
    payments = [
        {
            "number": p.number,
            "url": reverse(change.format("payment"), args=[p.pk]),
            "date": day(p.received_on),
            "what": label(p, "method") + (", reversed" if p.reversed_at else ""),
            "amount": money(p.amount),
        }
        for p in recent_payments(customer=customer)
    ]
    notes = [
        {
            "number": n.number,
            "url": reverse(change.format("creditnote"), args=[n.pk]),
            "date": moment(n.created_at),
            "what": f"credits {n.transaction.number}",
            "amount": money(n.amount),
        }
        for n in recent_credit_notes(customer=customer)
    ]
    links = dict(customer_links(customer))
    return render_to_string(
        "admin/sales/customer/recent_panel.html",
        {
            "kinds": [
                ("Sales", sales, links["All sales"], "All sales"),
                ("Payments", payments, links["All payments"], "All payments"),
                ("Credit notes", notes, links["All credit notes"], "All credit notes"),
            ]
        },
    )
