"""Reports for head office and managers; a beat entry that requeues dead export jobs."""

from django.db import migrations

from core.roles import Role, grant, revoke

PERMISSIONS = [
    (Role.ADMIN, "reporting", "exportjob", ["view"]),
    (Role.ADMIN, "reporting", "reportschedule", ["view", "add", "change", "delete"]),
    (Role.MANAGER, "reporting", "exportjob", ["view"]),
    (Role.MANAGER, "reporting", "reportschedule", ["view", "add", "change", "delete"]),
]
REQUEUE = "reporting: requeue export jobs whose worker died"


def forwards(apps, schema_editor):
    for role, app_label, model, actions in PERMISSIONS:
        grant(apps, role, app_label, model, actions)
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=REQUEUE,
        defaults={
            "task": "reporting.tasks.export_jobs_requeue_stale",
            "interval": every_minute,
            "enabled": True,
        },
    )


def backwards(apps, schema_editor):
    for role, app_label, model, actions in PERMISSIONS:
        revoke(apps, role, app_label, model, actions)
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=REQUEUE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0001_initial"),
        ("core", "0002_role_groups"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
