"""The audit trail as a report, in the audit log page's words (core.audit_words): the
action as a clerk says it, the object named and linked, the details as "what: value"."""

from django.db.models import F, Q

from core.audit_words import action_words, data_text, object_url, object_words
from core.models import AuditLog
from reporting.catalogue import Column, Linked, Report, register


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
        Column("object", "Object"),
        Column("depot", "Depot"),
        Column("data", "Details"),
    )

    def rows(self, f):
        """The entries in words; every file (CSV, XLSX, JSON) writes the same words."""
        for r in self.queryset(f).iterator(chunk_size=2000):
            kind, pk, data = r["object_type"], r["object_id"], r["data"]
            yield (
                r["seq"],
                r["created_at"],
                r["actor_name"],
                action_words(r["action"]),
                Linked(object_words(kind, pk, data), object_url(kind, pk)),
                r["depot_code"],
                data_text(data, r["action"]),
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
