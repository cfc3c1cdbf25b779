"""The audit trail as a report."""

from django.db.models import F, Q

from core.models import AuditLog
from reporting.catalogue import Column, Report, register


@register
class AuditTrail(Report):
    slug = "audit-trail"
    filters_used = ("date_from", "date_to", "depot", "sales_rep", "customer", "product")
    title = "Audit trail"
    description = "Every business action with its actor, newest first."
    in_time = True
    columns = (
        Column("seq", "Entry", link="audit"),
        Column("created_at", "Time"),
        Column("actor", "Actor"),
        Column("action", "Action"),
        Column("object_type", "Object type"),
        Column("object_id", "Object"),
        Column("depot", "Depot"),
        Column("data", "Details"),
    )

    def queryset(self, f):
        entries = AuditLog.objects.all()
        if f.depot_ids is not None:
            entries = entries.filter(depot_id__in=f.depot_ids)
        if f.depot is not None:
            entries = entries.filter(depot=f.depot)
        if f.start:
            entries = entries.filter(created_at__gte=f.start)
        if f.end:
            entries = entries.filter(created_at__lt=f.end)
        if f.sales_rep is not None:
            entries = entries.filter(Q(actor=f.sales_rep) | Q(data__sales_rep=f.sales_rep.username))
        if f.customer is not None:
            entries = entries.filter(data__customer=f.customer.code)
        if f.product is not None:
            entries = entries.filter(data__product=f.product.code)
        return (
            entries.annotate(actor_name=F("actor__username"), depot_code=F("depot__code"))
            .values(
                "seq",
                "created_at",
                "actor_name",
                "action",
                "object_type",
                "object_id",
                "depot_code",
                "data",
            )
            .order_by("-seq")
        )
