"""Production settings refuse a SECRET_KEY anyone could know or guess.

With the placeholder of .env.example (or any weak key) anyone can sign a session cookie
or a field-API token for any user, so start-up stops with a message saying how to
generate a real key. DEBUG keeps its development key.
"""

import pytest

from hsh_admin.tests.test_settings import load_settings, settings_with

ENV_EXAMPLE_KEY = "change-me-to-a-long-random-string"
GOOD_KEY = "q8Vx2mT0rK7pLw4nZc9aHs6dJf1gBy3e-uIoP5QtRvWxYzAbCdEfGhJk"


@pytest.mark.parametrize(
    "key",
    [
        ENV_EXAMPLE_KEY,
        # The placeholder padded out to a "long" key is still the placeholder.
        ENV_EXAMPLE_KEY + "-" + ENV_EXAMPLE_KEY,
        "django-insecure-" + "k3y5h0rt3n0ugh7ob3ac3ptedbyl3ngthal0ne1234567890",
        "CHANGEME" * 8,
        "change_me-please-" + "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8",
        "replace-me-with-a-real-secret-key-of-fifty-or-more-chars",
        "x" * 50,  # long, but five distinct characters at least, as check --deploy says
        "abcd" * 20,
        "short-but-random-8Hq2",  # fewer than 50 characters
    ],
)
def test_a_weak_or_placeholder_key_stops_start_up(key):
    result = load_settings(["SECRET_KEY"], SECRET_KEY=key)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr
    # The message says how to make a good one.
    assert "secrets.token_urlsafe(50)" in result.stderr
    assert key not in result.stderr  # a secret, even a bad one, is not echoed


def test_manage_py_names_the_weak_key_problem():
    import os
    import subprocess
    import sys

    from hsh_admin.tests.test_settings import BASE_DIR

    clean = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env={**clean, "ENV_FILE": "", "SECRET_KEY": ENV_EXAMPLE_KEY},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "placeholder" in result.stderr
    assert "secrets.token_urlsafe(50)" in result.stderr


@pytest.mark.parametrize(
    "key",
    [
        GOOD_KEY,
        # pyproject.toml's test key: long and varied, not a placeholder.
        "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    ],
)
def test_a_strong_key_is_accepted(key):
    assert settings_with(["SECRET_KEY"], SECRET_KEY=key)["SECRET_KEY"] == key


def test_debug_still_accepts_any_key_and_has_its_own():
    assert settings_with(["DEBUG"], DEBUG="1", SECRET_KEY=ENV_EXAMPLE_KEY)["DEBUG"] is True
    s = settings_with(["SECRET_KEY"], DEBUG="1")
    assert s["SECRET_KEY"].startswith("django-insecure-")


def test_env_example_placeholder_is_one_we_refuse():
    from hsh_admin.tests.test_settings import BASE_DIR

    lines = (BASE_DIR / ".env.example").read_text().splitlines()
    value = next(line.split("=", 1)[1] for line in lines if line.startswith("SECRET_KEY="))
    result = load_settings(["SECRET_KEY"], SECRET_KEY=value)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
