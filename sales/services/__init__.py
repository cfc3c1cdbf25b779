"""Every write of sales data: rates, sales and voids, payments.

Lock order for everything here: the customer row first, then stock levels by id (through
stock.services.levels_lock), then the document counter. See DESIGN.md invariant 10.
"""

from sales.services.payments import payment_record
from sales.services.rates import (
    RateChange,
    customer_rates_set,
    rate_import_undo,
    rate_set,
    rates_set,
)
from sales.services.sales import sale_post
from sales.services.voids import sale_void

__all__ = [
    "RateChange",
    "customer_rates_set",
    "payment_record",
    "rate_import_undo",
    "rate_set",
    "rates_set",
    "sale_post",
    "sale_void",
]
