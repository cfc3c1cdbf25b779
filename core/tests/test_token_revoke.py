"""Field-API tokens end when the password changes, or when someone logs the user out
everywhere (head office from the admin, or the handheld itself): every token carries
the user's token_version, checked on each request and on refresh."""

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from core.models import AuditLog, User

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
NEW_PASSWORD = "Another-long-passphrase-77"


def sign_in(username="northrep", password=PASSWORD):
    response = APIClient().post("/api/auth/token/", {"username": username, "password": password})
    assert response.status_code == 200, response.content
    return response.json()


def api_with(access):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return api


def refresh(token):
    return APIClient().post("/api/auth/token/refresh/", {"refresh": token})


def assert_works(tokens):
    assert api_with(tokens["access"]).get("/api/me/stock/").status_code == 200
    assert refresh(tokens["refresh"]).status_code == 200


def assert_revoked(tokens):
    for response in (
        api_with(tokens["access"]).get("/api/me/stock/"),
        refresh(tokens["refresh"]),
    ):
        assert response.status_code == 401, response.content
        error = response.json()["error"]
        assert error["status"] == 401
        assert error["code"] == "token_revoked"
        assert "sign in again" in error["message"]


def test_tokens_carry_the_version_and_work(sales_rep):
    tokens = sign_in()
    assert AccessToken(tokens["access"])["tv"] == 0
    assert RefreshToken(tokens["refresh"])["tv"] == 0
    assert_works(tokens)
    # A refreshed access token carries the version too.
    assert AccessToken(refresh(tokens["refresh"]).json()["access"])["tv"] == 0


def test_a_token_without_a_version_is_refused(sales_rep):
    """Tokens issued before versions existed cannot be revoked: they must sign in again."""
    legacy = RefreshToken.for_user(sales_rep)
    assert "tv" not in legacy.payload
    assert_revoked({"access": str(legacy.access_token), "refresh": str(legacy)})


def test_set_password_through_the_model_revokes_old_tokens(sales_rep):
    old, other_device = sign_in(), sign_in()
    user = User.objects.get(pk=sales_rep.pk)
    user.set_password(NEW_PASSWORD)
    user.save(update_fields=["password"])  # even a narrow save bumps the version
    assert user.token_version == 1  # read back: an int, not an F() expression
    assert User.objects.get(pk=sales_rep.pk).token_version == 1
    assert_revoked(old)
    assert_revoked(other_device)
    assert_works(sign_in(password=NEW_PASSWORD))


def test_admin_password_change_form_revokes_old_tokens(client, head_office, sales_rep):
    old = sign_in()
    client.force_login(head_office)
    response = client.post(
        reverse("admin:auth_user_password_change", args=[sales_rep.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content
    assert_revoked(old)
    assert_works(sign_in(password=NEW_PASSWORD))


def test_admin_disabling_the_password_revokes_old_tokens(client, head_office, sales_rep):
    old = sign_in()
    client.force_login(head_office)
    response = client.post(
        reverse("admin:auth_user_password_change", args=[sales_rep.pk]),
        {"usable_password": "false", "unset-password": "1"},
    )
    assert response.status_code == 302, response.content
    assert not User.objects.get(pk=sales_rep.pk).has_usable_password()
    assert_revoked(old)


def test_changepassword_command_revokes_old_tokens(sales_rep, monkeypatch):
    from django.contrib.auth.management.commands import changepassword

    old = sign_in()
    monkeypatch.setattr(changepassword.Command, "_get_pass", lambda self, prompt="": NEW_PASSWORD)
    call_command("changepassword", "northrep", stdout=None)
    assert_revoked(old)
    assert_works(sign_in(password=NEW_PASSWORD))


def test_other_changes_keep_tokens(sales_rep):
    tokens = sign_in()
    user = User.objects.get(pk=sales_rep.pk)
    user.first_name = "Nimal"
    user.save()
    assert_works(tokens)


def test_a_stronger_hash_at_login_is_not_a_password_change(sales_rep, settings):
    """Django re-hashes a password with the preferred hasher at login: same password,
    so the handheld's other tokens stay valid."""
    tokens = sign_in()
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    sign_in()
    assert User.objects.get(pk=sales_rep.pk).password.startswith("pbkdf2_sha256$")
    assert User.objects.get(pk=sales_rep.pk).token_version == 0
    assert_works(tokens)


# --- The handheld logs itself out ------------------------------------------------------


def test_api_logout_ends_every_device_of_that_user(sales_rep, user_factory, north):
    other_rep = user_factory("SALES", depots=[north], username="otherrep")
    this_device, other_device = sign_in(), sign_in()
    someone_else = sign_in("otherrep")
    response = api_with(this_device["access"]).post("/api/auth/logout/")
    assert response.status_code == 204
    assert response.content == b""
    assert_revoked(this_device)
    assert_revoked(other_device)
    assert_works(someone_else)
    assert_works(sign_in())
    entry = AuditLog.objects.get(action="user_logout_everywhere")
    assert (entry.actor, entry.object_id) == (sales_rep, str(sales_rep.pk))
    assert other_rep.token_version == 0


def test_api_logout_needs_a_valid_token(sales_rep):
    response = APIClient().post("/api/auth/logout/")
    assert response.status_code == 401
    assert response.json()["error"]["status"] == 401


# --- Head office logs a user out from the admin ---------------------------------------


def test_admin_action_asks_first_then_logs_out_and_names_the_user(client, head_office, sales_rep):
    old = sign_in()
    client.force_login(head_office)
    changelist = reverse("admin:core_user_changelist")
    asked = client.post(
        changelist, {"action": "log_out_everywhere", "_selected_action": [sales_rep.pk]}
    )
    assert asked.status_code == 200
    assert "northrep" in asked.content.decode()
    assert User.objects.get(pk=sales_rep.pk).token_version == 0  # nothing done yet
    assert_works(old)
    done = client.post(
        changelist,
        {"action": "log_out_everywhere", "_selected_action": [sales_rep.pk], "confirm": "yes"},
    )
    assert done.status_code == 302
    text = " ".join(str(m) for m in get_messages(done.wsgi_request))
    assert "northrep" in text
    assert "logged out everywhere" in text.lower()
    assert_revoked(old)
    assert_works(sign_in())
    entry = AuditLog.objects.get(action="user_logout_everywhere")
    assert (entry.actor, entry.object_id) == (head_office, str(sales_rep.pk))


def test_admin_user_page_logs_out_after_confirmation(client, head_office, sales_rep):
    old = sign_in()
    client.force_login(head_office)
    page = client.get(reverse("admin:core_user_change", args=[sales_rep.pk]))
    url = reverse("admin:core_user_logout_everywhere", args=[sales_rep.pk])
    assert url in page.content.decode()
    asked = client.get(url)
    assert asked.status_code == 200
    assert "northrep" in asked.content.decode()
    assert_works(old)
    done = client.post(url)
    assert done.status_code == 302
    assert "northrep" in " ".join(str(m) for m in get_messages(done.wsgi_request))
    assert_revoked(old)


def test_a_manager_cannot_log_users_out(client, manager, sales_rep):
    old = sign_in()
    client.force_login(manager)
    url = reverse("admin:core_user_logout_everywhere", args=[sales_rep.pk])
    assert client.post(url).status_code == 403
    changelist = reverse("admin:core_user_changelist")
    client.post(
        changelist,
        {"action": "log_out_everywhere", "_selected_action": [sales_rep.pk], "confirm": "yes"},
    )
    assert User.objects.get(pk=sales_rep.pk).token_version == 0
    assert_works(old)


def test_log_out_everywhere_also_ends_the_users_admin_sessions(client, head_office, manager):
    """A compromised manager account: head office's 'Log out everywhere' ends the
    manager's browser sessions as well as their API tokens."""
    from django.test import Client

    managers_browser = Client()
    managers_browser.force_login(manager)
    assert managers_browser.get("/admin/sales/payment/").status_code == 200
    client.force_login(head_office)
    url = reverse("admin:core_user_logout_everywhere", args=[manager.pk])
    assert client.post(url).status_code == 302
    after = managers_browser.get("/admin/sales/payment/")
    assert after.status_code == 302
    assert reverse("admin:login") in after["Location"]
    assert client.get("/admin/").status_code == 200  # head office's own session goes on


def test_changing_ones_own_password_keeps_this_session_and_ends_the_others(client, head_office):
    from django.test import Client

    other_browser = Client()
    other_browser.force_login(head_office)
    client.force_login(head_office)
    changed = client.post(
        reverse("admin:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302, changed.content
    assert client.get("/admin/").status_code == 200
    assert other_browser.get("/admin/").status_code == 302
