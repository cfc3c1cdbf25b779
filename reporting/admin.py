"""The reporting admin: export jobs (admin_jobs), schedules (admin_schedules) and the
dashboard's list of reports."""

from django.urls import reverse
from django.utils.html import format_html

from core import dashboard
from reporting import admin_jobs, admin_schedules  # noqa: F401 - they register themselves
from reporting.catalogue import all_reports


@dashboard.panel(order=90)
def reports_panel(request):
    return {
        "title": "Reports",
        "headers": ["Report", "What it shows"],
        "rows": [
            [
                format_html(
                    '<a href="{}">{}</a>', reverse("reports:report", args=[r.slug]), r.title
                ),
                r.description,
            ]
            for r in all_reports()
        ],
        "link": "reports:index",
        "link_text": "All reports",
        "empty": "",
    }
