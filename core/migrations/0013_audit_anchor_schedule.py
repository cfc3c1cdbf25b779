"""Celery beat e-mails the audit chain's anchor every day at 02:00 (CELERY_TIMEZONE)."""

from django.db import migrations

NAME = "core: e-mail the audit chain's anchor"


def forwards(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    daily = CrontabSchedule.objects.filter(
        minute="0", hour="2", day_of_week="*", day_of_month="*", month_of_year="*"
    ).first() or CrontabSchedule.objects.create(
        minute="0", hour="2", day_of_week="*", day_of_month="*", month_of_year="*"
    )
    PeriodicTask.objects.update_or_create(
        name=NAME,
        defaults={"task": "core.tasks.audit_anchor_daily", "crontab": daily, "enabled": True},
    )


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0012_audit_chain_head_advance_only"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
