"""Settings are read from the environment: check the defaults and each override.

Each case imports the settings in a fresh interpreter with a controlled environment,
because Django reads its settings once per process.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
# Production settings refuse short, repetitive and placeholder keys (test_secret_key.py).
STRONG_KEY = "q8Vx2mT0rK7pLw4nZc9aHs6dJf1gBy3e-uIoP5QtRvWxYzAbCdEfGhJk"

PROBE = """
import json, django
from django.conf import settings
django.setup()
from hsh_admin.celery import app
names = %r
out = {n: getattr(settings, n) for n in names}
out["_celery"] = {k: app.conf[k] for k in (
    "task_always_eager", "task_serializer", "accept_content", "task_acks_late",
    "task_reject_on_worker_lost", "broker_url", "broker_transport_options",
    "task_time_limit", "beat_scheduler", "worker_prefetch_multiplier")}
print(json.dumps(out, default=str))
"""


def load_settings(names, **env):
    # AUDIT_HMAC_KEY: pyproject.toml's test key (required with DEBUG off, like SECRET_KEY).
    kept = {"PATH", "HOME", "LANG", "AUDIT_HMAC_KEY"}
    clean = {k: v for k, v in os.environ.items() if k in kept}
    clean.update({"DJANGO_SETTINGS_MODULE": "hsh_admin.settings", "ENV_FILE": ""}, **env)
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", PROBE % (list(names),)],
        cwd=BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result


def settings_with(names, **env):
    result = load_settings(names, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_secret_key_is_required_when_debug_is_off():
    result = load_settings(["DEBUG"])
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_defaults_are_production_safe():
    s = settings_with(
        [
            "DEBUG",
            "DATABASES",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "SECURE_SSL_REDIRECT",
            "SECURE_HSTS_SECONDS",
            "ALLOWED_HOSTS",
            "CSRF_TRUSTED_ORIGINS",
            "TIME_ZONE",
            "MEDIA_ROOT",
            "EMAIL_BACKEND",
            "CACHES",
        ],
        SECRET_KEY=STRONG_KEY,
    )
    assert s["DEBUG"] is False
    assert s["SESSION_COOKIE_SECURE"] is True
    assert s["CSRF_COOKIE_SECURE"] is True
    assert s["SECURE_SSL_REDIRECT"] is True
    assert s["SECURE_HSTS_SECONDS"] == 31_536_000
    assert s["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1"]
    assert s["CSRF_TRUSTED_ORIGINS"] == []
    assert s["TIME_ZONE"] == "UTC"
    assert s["MEDIA_ROOT"] == str(BASE_DIR / "media")
    assert s["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    db = s["DATABASES"]["default"]
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == str(BASE_DIR / "db.sqlite3")
    # No REDIS_URL: one process, local cache, tasks run eagerly.
    assert s["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")
    assert s["_celery"]["task_always_eager"] is True


def test_debug_gives_a_development_key_and_console_mail():
    s = settings_with(["DEBUG", "SECRET_KEY", "EMAIL_BACKEND", "SECURE_SSL_REDIRECT"], DEBUG="1")
    assert s["DEBUG"] is True
    assert s["SECRET_KEY"].startswith("django-insecure")
    assert s["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert s["SECURE_SSL_REDIRECT"] is False


def test_every_variable_overrides(tmp_path):
    s = settings_with(
        [
            "DATABASES",
            "ALLOWED_HOSTS",
            "CSRF_TRUSTED_ORIGINS",
            "TIME_ZONE",
            "MEDIA_ROOT",
            "EMAIL_BACKEND",
            "EMAIL_HOST",
            "EMAIL_PORT",
            "EMAIL_HOST_USER",
            "CACHES",
            "CELERY_BROKER_URL",
            "SECRET_KEY",
        ],
        SECRET_KEY=STRONG_KEY,
        DATABASE_URL="postgres://hsh:pw@db.internal:5433/hsh_sales",
        REDIS_URL="redis://cache.internal:6380/2",
        ALLOWED_HOSTS="sales.example.lk,admin.example.lk",
        CSRF_TRUSTED_ORIGINS="https://sales.example.lk",
        EMAIL_URL="smtp+tls://mailer:secret@smtp.example.lk:587",
        TIME_ZONE="Asia/Colombo",
        MEDIA_ROOT=str(tmp_path),
    )
    db = s["DATABASES"]["default"]
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["HOST"], db["PORT"], db["NAME"], db["USER"]) == (
        "db.internal",
        5433,
        "hsh_sales",
        "hsh",
    )
    assert s["ALLOWED_HOSTS"] == ["sales.example.lk", "admin.example.lk"]
    assert s["CSRF_TRUSTED_ORIGINS"] == ["https://sales.example.lk"]
    assert s["TIME_ZONE"] == "Asia/Colombo"
    assert s["MEDIA_ROOT"] == str(tmp_path)
    assert (s["EMAIL_HOST"], s["EMAIL_PORT"], s["EMAIL_HOST_USER"]) == (
        "smtp.example.lk",
        587,
        "mailer",
    )
    assert s["CACHES"]["default"]["BACKEND"].endswith("RedisCache")
    assert s["CACHES"]["default"]["LOCATION"] == "redis://cache.internal:6380/2"
    celery = s["_celery"]
    assert celery["broker_url"] == "redis://cache.internal:6380/2"
    assert celery["task_always_eager"] is False
    assert s["SECRET_KEY"] == STRONG_KEY


def test_celery_is_configured_for_safe_delivery():
    celery = settings_with([], SECRET_KEY=STRONG_KEY, REDIS_URL="redis://127.0.0.1:6379/0")[
        "_celery"
    ]
    assert celery["task_serializer"] == "json"
    assert celery["accept_content"] == ["json"]
    assert celery["task_acks_late"] is True
    assert celery["task_reject_on_worker_lost"] is True
    assert celery["worker_prefetch_multiplier"] == 1
    assert celery["beat_scheduler"] == "django_celery_beat.schedulers:DatabaseScheduler"
    # A task is redelivered only after the visibility timeout: it must outlast any task.
    assert celery["broker_transport_options"]["visibility_timeout"] > celery["task_time_limit"]


@pytest.mark.parametrize("value", ["yes", "1", "true", "on"])
def test_debug_accepts_usual_truthy_spellings(value):
    assert settings_with(["DEBUG"], DEBUG=value)["DEBUG"] is True


def test_env_file_is_read_but_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("TIME_ZONE=Asia/Colombo\nALLOWED_HOSTS=from-file.example\n")
    s = settings_with(
        ["TIME_ZONE", "ALLOWED_HOSTS"],
        SECRET_KEY=STRONG_KEY,
        ENV_FILE=str(env_file),
        ALLOWED_HOSTS="from-env.example",
    )
    assert s["TIME_ZONE"] == "Asia/Colombo"
    assert s["ALLOWED_HOSTS"] == ["from-env.example"]


def test_manage_py_says_what_is_missing():
    clean = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env={**clean, "ENV_FILE": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr
    assert "run it with DEBUG=1" in result.stderr
    assert "Models aren't loaded yet" not in result.stderr


def test_makemigrations_needs_no_production_secrets():
    """A developer checking migrations on a fresh clone needs no keys: that command signs
    nothing and writes no audit entry. Every other command still asks for them (above)."""
    clean = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=BASE_DIR,
        env={**clean, "ENV_FILE": "", "DATABASE_URL": "sqlite:///:memory:"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout
