"""Celery beat e-mails each depot's managers the products below their reorder level, every
day at 07:00 in the business time zone (TIME_ZONE), before the trucks are loaded."""

from django.conf import settings
from django.db import migrations

DAILY = "stock: e-mail depot managers the products below their reorder level"


def forwards(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    daily_at_seven, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour="7",
        day_of_month="*",
        month_of_year="*",
        day_of_week="*",
        timezone=settings.TIME_ZONE,
    )
    PeriodicTask.objects.update_or_create(
        name=DAILY,
        defaults={
            "task": "stock.tasks.low_stock_alert_daily",
            "crontab": daily_at_seven,
            "interval": None,
            "enabled": True,
        },
    )


def backwards(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=DAILY).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("stock", "0011_custody_documents"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
