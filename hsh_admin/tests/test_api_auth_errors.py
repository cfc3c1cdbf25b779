"""A refused sign-in under /api/ answers in the one error shape, with one specific code
and a plain message: no token classes, token types or library messages in `fields`."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from core.auth import VERSION_CLAIM, VersionedRefreshToken

pytestmark = pytest.mark.django_db

EXPIRED = "Your sign-in has expired or is not valid; sign in again."


def ask(path="/api/me/stock/", authorization=None, method="get", data=None):
    api = APIClient()
    if authorization is not None:
        api.credentials(HTTP_AUTHORIZATION=authorization)
    response = getattr(api, method)(path, data or {}, format="json")
    assert response.status_code == 401, response.content
    error = response.json()["error"]
    assert set(response.json()) == {"error"}
    assert error["status"] == 401
    return error


def expired_access(user):
    token = AccessToken.for_user(user)
    token[VERSION_CLAIM] = user.token_version
    token.set_exp(lifetime=-timedelta(minutes=1))
    return str(token)


@pytest.mark.parametrize(
    "authorization",
    ["Bearer abc", "Bearer " + "x" * 5000, "Bearer eyJhbGciOiJIUzI1NiJ9.e30.bad"],
)
def test_a_token_that_is_not_one_is_token_not_valid(authorization):
    error = ask(authorization=authorization)
    assert error == {"status": 401, "code": "token_not_valid", "message": EXPIRED, "fields": {}}


def test_an_expired_token_is_token_not_valid(sales_rep):
    error = ask(authorization=f"Bearer {expired_access(sales_rep)}")
    assert error == {"status": 401, "code": "token_not_valid", "message": EXPIRED, "fields": {}}


def test_a_bad_header_is_bad_authorization_header():
    error = ask(authorization="Bearer a b")
    assert error == {
        "status": 401,
        "code": "bad_authorization_header",
        "message": EXPIRED,
        "fields": {},
    }


def test_a_token_of_a_removed_user_names_no_user(sales_rep):
    access = str(VersionedRefreshToken.for_user(sales_rep).access_token)
    sales_rep.delete()
    error = ask(authorization=f"Bearer {access}")
    assert error == {"status": 401, "code": "user_not_found", "message": EXPIRED, "fields": {}}


def test_a_refresh_token_that_is_not_one(sales_rep):
    error = ask("/api/auth/token/refresh/", method="post", data={"refresh": "abc"})
    assert error == {"status": 401, "code": "token_not_valid", "message": EXPIRED, "fields": {}}


def test_an_access_token_given_as_refresh_is_token_not_valid(sales_rep):
    access = str(VersionedRefreshToken.for_user(sales_rep).access_token)
    error = ask("/api/auth/token/refresh/", method="post", data={"refresh": access})
    assert error["code"] == "token_not_valid"
    assert error["fields"] == {}


def test_no_sign_in_at_all_says_so():
    error = ask()
    assert error["code"] == "not_authenticated"
    assert error["fields"] == {}
    assert "sign in" in error["message"].lower()


def test_a_revoked_token_keeps_its_own_code_and_message(sales_rep):
    access = str(VersionedRefreshToken.for_user(sales_rep).access_token)
    sales_rep.set_password("Another-long-passphrase-77")
    sales_rep.save()
    error = ask(authorization=f"Bearer {access}")
    assert error["code"] == "token_revoked"
    assert error["fields"] == {}
    assert "sign in again" in error["message"]


def test_a_wrong_password_keeps_its_message(sales_rep):
    error = ask(
        "/api/auth/token/", method="post", data={"username": "northrep", "password": "wrong"}
    )
    assert error["code"] == "no_active_account"
    assert error["fields"] == {}
    assert error["message"] == "No active account found with the given credentials"
