"""django-celery-beat's crontab admin, whose "human readable" column lets celery's
ParseException out (a day of the week of -1 typed into the form): a server error on
the change page and the list. Here it says the schedule cannot be read instead."""

from celery.schedules import ParseException
from django.contrib import admin
from django_celery_beat.admin import CrontabScheduleAdmin
from django_celery_beat.models import CrontabSchedule


class CrontabAdmin(CrontabScheduleAdmin):
    list_display = ("__str__", "in_words")
    fields = ("in_words", "minute", "hour", "day_of_month", "month_of_year", "day_of_week")
    fields += ("timezone",)
    readonly_fields = ("in_words",)

    @admin.display(description="Human readable")
    def in_words(self, obj):
        try:
            return obj.human_readable
        except ParseException:
            return "Not a schedule celery can read: check each field."


admin.site.unregister(CrontabSchedule)
admin.site.register(CrontabSchedule, CrontabAdmin)
