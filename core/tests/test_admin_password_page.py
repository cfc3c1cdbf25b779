"""The admin's password page sets the password through core.services.user_password_set:
an audit entry naming who set it (never the hash), and the account's sign-ins ended."""

import json

import pytest
from django.urls import reverse

from core.models import AuditLog, User

pytestmark = pytest.mark.django_db

NEW = "a-new-secret-4321"


def url(user):
    return reverse("admin:auth_user_password_change", args=[user.pk])


def test_the_password_page_is_audited_and_ends_sign_ins(client, head_office, sales_rep):
    client.force_login(head_office)
    before = User.objects.get(pk=sales_rep.pk).token_version
    response = client.post(
        url(sales_rep), {"password1": NEW, "password2": NEW, "usable_password": "true"}
    )
    assert response.status_code == 302, response.content
    rep = User.objects.get(pk=sales_rep.pk)
    assert rep.check_password(NEW)
    assert rep.token_version == before + 1
    [entry] = AuditLog.objects.filter(action="user_password_set")
    assert entry.actor == head_office
    assert entry.object_id == str(rep.pk)
    assert entry.data == {"username": "northrep", "usable": True}
    text = json.dumps(entry.data)
    assert rep.password not in text
    assert NEW not in text


def test_disabling_the_password_is_audited(client, head_office, sales_rep):
    client.force_login(head_office)
    response = client.post(url(sales_rep), {"usable_password": "false", "unset-password": "1"})
    assert response.status_code == 302, response.content
    assert not User.objects.get(pk=sales_rep.pk).has_usable_password()
    [entry] = AuditLog.objects.filter(action="user_password_set")
    assert entry.data == {"username": "northrep", "usable": False}


def test_changing_ones_own_password_there_keeps_ones_session(client, head_office):
    client.force_login(head_office)
    response = client.post(
        url(head_office), {"password1": NEW, "password2": NEW, "usable_password": "true"}
    )
    assert response.status_code == 302, response.content
    assert AuditLog.objects.get(action="user_password_set").actor == head_office
    assert client.get(reverse("admin:index")).status_code == 200  # still signed in


def test_a_refused_form_writes_nothing(client, head_office, sales_rep):
    client.force_login(head_office)
    response = client.post(
        url(sales_rep), {"password1": NEW, "password2": "other", "usable_password": "true"}
    )
    assert response.status_code == 200
    assert not AuditLog.objects.filter(action="user_password_set").exists()
