"""The audit log's admin screen (core.AuditLog): read-only for everyone, append-only
underneath. Actions read as words, the data as a small table, and each entry links to the
page of the object it is about (core.audit_words)."""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.utils.html import format_html, format_html_join

from core.admin_flow import CappedCountPaginator
from core.admin_mixins import DepotScopedAdminMixin, DistinctValuesFilter, ReadOnlyAdminMixin
from core.audit_words import (
    action_words,
    data_rows,
    key_words,
    object_url,
    object_words,
    value_words,
)
from core.display import moment
from core.models import AuditLog, Role, User
from core.scoping import scope_queryset


class ActorFilter(admin.SimpleListFilter):
    """Actors the user may see: everyone for head office, their depots' staff for a manager."""

    title = "actor"
    parameter_name = "actor"

    def lookups(self, request, model_admin):
        users = scope_queryset(
            User.objects.filter(is_staff=True) | User.objects.filter(role=Role.SALES), request.user
        )
        return [(u.pk, u.username) for u in users.order_by("username").distinct()]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        # The URL gives text; "Show counts" sets the choice itself (an integer pk).
        value = str(self.value())
        if value not in {str(pk) for pk, _ in self.lookup_choices}:
            raise IncorrectLookupParameters(f"Unknown actor {value!r}.")
        return queryset.filter(actor_id=value)


class AuditActionFilter(DistinctValuesFilter):
    title, field = "action", "action"

    def lookups(self, request, model_admin):
        return [(value, action_words(value)) for value, _ in super().lookups(request, model_admin)]


class AuditObjectTypeFilter(DistinctValuesFilter):
    title, field = "object type", "object_type"

    def lookups(self, request, model_admin):
        return [
            (value, object_words(value, "", {}).removesuffix(" #"))
            for value, _ in super().lookups(request, model_admin)
        ]


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdminMixin, DepotScopedAdminMixin, admin.ModelAdmin):
    """The audit log, read-only for everyone (append-only: no add, change or delete).
    Search by the object's id or number. Actions read as words, the data as a table, and
    the entry links to the page of what it is about (core.audit_words)."""

    list_display = ("seq", "when", "by", "action_shown", "about", "summary")
    list_display_links = ("seq", "action_shown")
    list_filter = (ActorFilter, AuditActionFilter, AuditObjectTypeFilter, "depot", "created_at")
    search_fields = ("=object_id", "data__number", "data__customer")
    list_select_related = ("actor", "depot")
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 100
    fieldsets = (
        (None, {"fields": ("action_shown", "when", "actor", "about_link", "depot")}),
        ("What it recorded", {"fields": ("data_table",)}),
        (
            "Place in the tamper-evident chain",
            {
                "fields": ("seq", "prev_hash", "hash"),
                "classes": ("collapse",),
                "description": "Each entry seals the one before it; manage.py verify_audit "
                "checks the chain.",
            },
        ),
    )
    readonly_fields = (
        "action_shown",
        "when",
        "actor",
        "about_link",
        "depot",
        "data_table",
        "seq",
        "prev_hash",
        "hash",
    )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        entry = self.get_object(request, object_id)
        if entry is not None:  # else the admin says it does not exist
            about = object_words(entry.object_type, entry.object_id, entry.data)
            extra_context = {
                **(extra_context or {}),
                "subtitle": f"{action_words(entry.action)}: {about}",
            }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="When", ordering="created_at")
    def when(self, obj):
        return moment(obj.created_at)

    @admin.display(description="By", ordering="actor__username")
    def by(self, obj):
        return obj.actor.username

    @admin.display(description="Action", ordering="action")
    def action_shown(self, obj):
        return action_words(obj.action)

    @admin.display(description="About", ordering="object_type")
    def about(self, obj):
        return object_words(obj.object_type, obj.object_id, obj.data)

    @admin.display(description="About")
    def about_link(self, obj):
        words = object_words(obj.object_type, obj.object_id, obj.data)
        url = object_url(obj.object_type, obj.object_id)
        return format_html('<a href="{}">{}</a>', url, words) if url else words

    @admin.display(description="Details")
    def summary(self, obj):
        keys = ("number", "customer", "product", "quantity", "total", "amount", "reason")
        shown = [
            f"{key_words(k).lower()} {value_words(k, obj.data[k])}"
            for k in keys
            if isinstance(obj.data, dict) and obj.data.get(k) not in (None, "")
        ]
        text = ", ".join(shown)
        return text[:60] + ("…" if len(text) > 60 else "")

    @admin.display(description="Data")
    def data_table(self, obj):
        rows = data_rows(obj.data, obj.action)
        if not rows:
            return "Nothing recorded beyond the action."
        body = format_html_join(
            "", '<tr><th scope="row">{}</th><td>{}</td></tr>', ((k, v) for k, v in rows)
        )
        return format_html('<table class="hsh-audit-data"><tbody>{}</tbody></table>', body)
