"""What a sale's audit entry records (sale_post): its number, money, lines as priced,
meter, and when it happened (occurred_at) beside when it was posted (the entry's own
time)."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sales.models import Transaction
from sales.services.holdings import SaleDeposits
from sales.services.lines import MeterFields, SaleLine


def sale_audit_data(
    *,
    sale: Transaction,
    priced: list[tuple[SaleLine, Decimal]],
    meter: MeterFields | None,
    deposits: SaleDeposits,
    key: str | None,
    occurred: datetime,
) -> dict[str, Any]:
    return {
        "number": sale.number,
        "customer": sale.customer.code,
        "sales_rep": sale.sales_rep.username,
        "payment_type": sale.payment_type,
        "occurred_at": occurred.isoformat(),
        "net": str(sale.net_amount),
        "tax_rate": str(sale.tax_rate),
        "tax": str(sale.tax_amount),
        "deposit": str(deposits.charged),
        "deposit_refund": str(deposits.refunded),
        "refund_to": deposits.refund_to,
        "total": str(sale.total_amount),
        "lines": [
            {
                "product": line.product.code,
                "quantity": line.quantity,
                "empties_returned": line.empties_returned,
                "rate": str(rate),
            }
            for line, rate in priced
        ],
        "meter": None
        if not meter
        else {
            "last": str(meter["last_reading"]),
            "latest": str(meter["latest_reading"]),
            "quantity": str(meter["quantity"]),
            "rate": str(meter["rate"]),
        },
        "idempotency_key": key,
    }
