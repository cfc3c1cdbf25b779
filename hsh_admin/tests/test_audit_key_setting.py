"""AUDIT_HMAC_KEY keys the audit chain: production refuses to start without a real one."""

import pytest

from hsh_admin.tests.test_settings import load_settings, settings_with

STRONG_SECRET = "Jq0vX8r2-secret-key-for-this-test-only-5cT9wLm4Hz7bNp1Kd6Rf"
STRONG_AUDIT = "Vb3nQ7s1-audit-key-for-this-test-only-8gY2pLx5Mw9cTr4Hk0Ze"


def test_production_refuses_to_start_without_the_audit_key():
    result = load_settings(["AUDIT_HMAC_KEY"], SECRET_KEY=STRONG_SECRET, AUDIT_HMAC_KEY="")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "AUDIT_HMAC_KEY must be set when DEBUG is off" in result.stderr
    assert "secrets.token_urlsafe(50)" in result.stderr


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("short-audit-key", "is too weak: it needs at least 50 characters"),
        ("z" * 60, "is too weak: it needs at least 50 characters, at least 5 of them different"),
        ("change-me-audit-key-" * 3, "is a placeholder (from an example file or a tutorial)"),
    ],
    ids=["short", "repetitive", "placeholder"],
)
def test_production_refuses_a_weak_audit_key(key, why):
    result = load_settings(["AUDIT_HMAC_KEY"], SECRET_KEY=STRONG_SECRET, AUDIT_HMAC_KEY=key)
    assert result.returncode != 0
    # The refusal itself, not any error that happens to name the setting.
    assert "ImproperlyConfigured" in result.stderr
    assert f"AUDIT_HMAC_KEY {why}" in result.stderr
    assert "Anyone who knows it can forge the audit log" in result.stderr
    assert key not in result.stderr


def test_the_audit_key_is_not_the_secret_key():
    result = load_settings(
        ["AUDIT_HMAC_KEY"], SECRET_KEY=STRONG_SECRET, AUDIT_HMAC_KEY=STRONG_SECRET
    )
    assert result.returncode != 0
    assert "AUDIT_HMAC_KEY must not be the same as SECRET_KEY" in result.stderr


def test_the_audit_key_and_anchor_addresses_are_read():
    s = settings_with(
        ["AUDIT_HMAC_KEY", "AUDIT_ANCHOR_EMAILS"],
        SECRET_KEY=STRONG_SECRET,
        AUDIT_HMAC_KEY=STRONG_AUDIT,
        AUDIT_ANCHOR_EMAILS="auditor@example.com,cfo@example.com",
    )
    assert s["AUDIT_HMAC_KEY"] == STRONG_AUDIT
    assert s["AUDIT_ANCHOR_EMAILS"] == ["auditor@example.com", "cfo@example.com"]


def test_debug_gives_a_fixed_development_audit_key_and_no_anchor_mail():
    s = settings_with(["AUDIT_HMAC_KEY", "AUDIT_ANCHOR_EMAILS"], DEBUG="1", AUDIT_HMAC_KEY="")
    assert s["AUDIT_HMAC_KEY"].startswith("insecure-local-development-audit-key")
    assert s["AUDIT_ANCHOR_EMAILS"] == []
