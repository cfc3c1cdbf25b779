"""The Celery app. Configuration lives in settings (CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hsh_admin.settings")

app = Celery("hsh_admin")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
