"""The sales panel of the admin's dashboard."""

from datetime import datetime, time, timedelta

from django.db.models import Q, Sum
from django.utils import timezone

from core import dashboard
from core.scoping import ALL, scope_queryset, visible_depot_ids
from sales.models import PaymentType, Transaction, TransactionStatus
from stock.selectors import low_stock


@dashboard.panel(order=30)
def sales_today_panel(request):
    if not request.user.has_perm("sales.view_transaction"):
        return None
    today = timezone.localdate()
    # The sales that happened today (a sale synced late counts on its own day), as a range
    # the occurred_at indexes answer (a __date lookup would cast every row).
    start, end = (
        timezone.make_aware(datetime.combine(day, time.min))
        for day in (today, today + timedelta(days=1))
    )
    posted = scope_queryset(Transaction.objects.all(), request.user).filter(
        status=TransactionStatus.POSTED, occurred_at__gte=start, occurred_at__lt=end
    )
    rows = (
        posted.values("depot__code")
        .annotate(
            cash=Sum("total_amount", filter=Q(payment_type=PaymentType.CASH)),
            credit=Sum("total_amount", filter=Q(payment_type=PaymentType.CREDIT)),
        )
        .order_by("depot__code")
    )
    return {
        "title": f"Sales today ({today:%d %b %Y})",
        "headers": ["Depot", "Cash", "Credit"],
        "rows": [[r["depot__code"], r["cash"] or 0, r["credit"] or 0] for r in rows],
        "money_columns": [1, 2],  # shown as money (core.display) by the page
        "link": "admin:sales_transaction_changelist",
        "link_text": "All sales",
        "empty": "No sales today yet.",
    }


@dashboard.panel(order=25)
def low_stock_panel(request):
    """Depots below a reorder level: head office sees every depot, a manager theirs."""
    if not request.user.has_perm("stock.view_reorderlevel"):
        return None
    depot_ids = visible_depot_ids(request.user)
    rows = low_stock(depot_ids=None if depot_ids is ALL else list(depot_ids))
    return {
        "title": "Below the reorder level",
        "headers": ["Depot", "Product", "Full now", "Minimum", "Short"],
        "rows": [
            [
                r["depot"].code,
                r["product"].code,
                r["full"],
                r["minimum"],
                r["minimum"] - r["full"],
            ]
            for r in rows
        ],
        "link": "admin:stock_reorderlevel_changelist",
        "link_text": "Reorder levels",
        "empty": "Every depot holds at least its minimum of full cylinders.",
    }
