"""Every write of sales data: customers, rates, sales and voids, payments and their
reversals, deposit rates, customers' cylinders held and their returns.

Lock order for everything here: the customer row first, then the representative's user
row (FOR SHARE, through stock.services.sales_rep_home_depot: their depot cannot change
under a posting), then stock levels by id (through stock.services.levels_lock), then the
document counter. See docs/architecture.md, "Lock order".
"""

from sales.services.cashups import cashup_confirm, cashup_post
from sales.services.custody import cylinder_return, cylinders_held_adjust
from sales.services.customers import customer_create, customer_update
from sales.services.deposits import deposit_set
from sales.services.payments import payment_record
from sales.services.rates import (
    RateChange,
    customer_rates_set,
    rate_import_undo,
    rate_set,
    rates_set,
)
from sales.services.reversals import payment_reverse
from sales.services.sales import sale_post
from sales.services.sync import sync_refusal_dismiss, sync_refusal_repost
from sales.services.tax import tax_compute, tax_rate_set
from sales.services.voids import sale_void

__all__ = [
    "RateChange",
    "cashup_confirm",
    "cashup_post",
    "customer_create",
    "customer_rates_set",
    "customer_update",
    "cylinder_return",
    "cylinders_held_adjust",
    "deposit_set",
    "payment_record",
    "payment_reverse",
    "rate_import_undo",
    "rate_set",
    "rates_set",
    "sale_post",
    "sale_void",
    "sync_refusal_dismiss",
    "sync_refusal_repost",
    "tax_compute",
    "tax_rate_set",
]
