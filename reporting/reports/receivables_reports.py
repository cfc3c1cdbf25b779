"""Receivables: every account not settled, as it stands now, aged by when the unpaid
credit sales happened."""

from collections import defaultdict
from decimal import Decimal

from django.utils import timezone

from reporting.catalogue import Column, Report, register
from sales.models import Customer, Transaction
from sales.selectors import customers_with_account


@register
class Receivables(Report):
    """Every account that is not settled, as it stands now. The balance is
    sales.selectors' one definition (balance_expression): the rows list each customer
    whose balance is not zero, age what they owe by their unpaid credit sales, and show
    the rest (money received and not yet settled against a sale) as paid in advance, so
    total due - paid in advance = balance, always."""

    slug = "receivables"
    title = "Receivables"
    filters_used = ("depot", "customer")  # balances now: no dates, no slice of an account
    description = (
        "Every customer whose account is not settled, as it stands now: what they owe, by "
        "the age of their unpaid credit sales today (from the day each happened), or what "
        "they have paid in advance. "
        "Balance = total due - paid in advance (negative: the customer is in credit)."
    )
    columns = (
        Column("customer_code", "Customer", link="customer"),
        Column("customer_name", "Customer name"),
        Column("depot", "Depot"),
        Column("credit_limit", "Credit limit"),
        Column("days_0_30", "0-30 days", total=True, money=True),
        Column("days_31_60", "31-60 days", total=True, money=True),
        Column("days_61_90", "61-90 days", total=True, money=True),
        Column("days_over_90", "Over 90 days", total=True, money=True),
        Column("total_due", "Total due", total=True, money=True),
        Column("on_account", "Paid in advance", total=True, money=True),
        Column("balance", "Balance", total=True, money=True),
    )

    def rows(self, f):
        customers = Customer.objects.all()
        if f.depot_ids is not None:
            customers = customers.filter(depot_id__in=f.depot_ids)
        if f.depot is not None:
            customers = customers.filter(depot=f.depot)
        if f.customer is not None:
            customers = customers.filter(pk=f.customer.pk)
        today = timezone.localdate()
        buckets = defaultdict(lambda: [Decimal("0")] * 4)
        unpaid = (
            Transaction.objects.unpaid_credit()
            .filter(customer__in=customers)
            .values_list("customer_id", "occurred_at", "total_amount", "amount_paid")
        )
        # Aged from when the sale happened, not from when it was posted.
        for customer_id, occurred_at, total, paid in unpaid.order_by().iterator(chunk_size=2000):
            age = (today - timezone.localtime(occurred_at).date()).days
            index = 0 if age <= 30 else 1 if age <= 60 else 2 if age <= 90 else 3
            buckets[customer_id][index] += total - paid
        accounts = (
            customers_with_account(customers)
            .exclude(balance_value=0)
            .select_related("depot")
            .order_by("code")
        )
        for customer in accounts.iterator(chunk_size=2000):
            due = buckets[customer.pk]
            balance = Decimal(customer.balance_value).quantize(Decimal("0.01"))
            yield (
                customer.code,
                customer.name,
                customer.depot.code,
                customer.credit_limit,
                *due,
                sum(due),
                sum(due) - balance,
                balance,
            )
