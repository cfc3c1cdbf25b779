"""The sales panel of the admin's dashboard."""

from django.db.models import Q, Sum
from django.utils import timezone

from core import dashboard
from core.scoping import scope_queryset
from sales.models import PaymentType, Transaction, TransactionStatus


@dashboard.panel(order=30)
def sales_today_panel(request):
    if not request.user.has_perm("sales.view_transaction"):
        return None
    today = timezone.localdate()
    posted = scope_queryset(Transaction.objects.all(), request.user).filter(
        status=TransactionStatus.POSTED, created_at__date=today
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
        "link": "admin:sales_transaction_changelist",
        "link_text": "All sales",
        "empty": "No sales posted today yet.",
    }
