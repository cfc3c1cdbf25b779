"""Celery beat runs the monthly statements on the 1st at 02:00 in the business time zone
(TIME_ZONE), for the month just ended, and every 10 minutes hands the workers any run
left waiting (the broker was down when it started) or stalled (its worker died)."""

from django.conf import settings
from django.db import migrations

MONTHLY = "billing: the monthly statement run (last month)"
PICK_UP = "billing: resume statement runs left waiting or stalled"


def forwards(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    first_at_two, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour="2",
        day_of_month="1",
        month_of_year="*",
        day_of_week="*",
        timezone=settings.TIME_ZONE,
    )
    PeriodicTask.objects.update_or_create(
        name=MONTHLY,
        defaults={
            "task": "billing.tasks.statement_run_monthly",
            "crontab": first_at_two,
            "interval": None,
            "enabled": True,
        },
    )
    every_ten_minutes, _ = IntervalSchedule.objects.get_or_create(every=10, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=PICK_UP,
        defaults={
            "task": "billing.tasks.statement_runs_resume",
            "interval": every_ten_minutes,
            "crontab": None,
            "enabled": True,
        },
    )


def backwards(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[MONTHLY, PICK_UP]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_statements"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
