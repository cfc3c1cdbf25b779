"""Signing in to the field API, and who a request comes from.

Tokens: every token simplejwt issues carries the user's `token_version` (claim "tv").
Access tokens are checked against it on every request, refresh tokens on refresh; a
password change or a "log out everywhere" raises the version (core.models.User.save,
core.services.user_logout_everywhere), so every token issued before stops working.
A token without the claim (issued before versions existed) is refused the same way.

No views here: importing rest_framework.views reads DEFAULT_AUTHENTICATION_CLASSES, which
names this module, so it must not import them itself (the logout view is in api_urls).

Addresses: throttles and django-axes' lockout identify a client by one rule, DRF's
NUM_PROXIES: the socket address, or behind N trusted proxies the address the nearest
of them saw (N-th from the right of X-Forwarded-For). A client cannot choose it.
"""

import ipaddress

from django.contrib.auth import get_user_model
from rest_framework import exceptions
from rest_framework.throttling import BaseThrottle
from rest_framework_simplejwt import authentication, serializers
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken

VERSION_CLAIM = "tv"


class TokenRevoked(exceptions.AuthenticationFailed):
    default_detail = (
        "This sign-in has ended (the password was changed or the user was logged out "
        "everywhere): sign in again."
    )
    default_code = "token_revoked"


def token_version_check(token, user) -> None:
    """Refuse a token issued before the user's latest password change or log-out."""
    if token.get(VERSION_CLAIM) != user.token_version:
        raise TokenRevoked()


class VersionedRefreshToken(RefreshToken):
    """A refresh token carrying the user's token_version; the access tokens made from
    it copy the claim."""

    @classmethod
    def for_user(cls, user):
        token = super().for_user(user)
        token[VERSION_CLAIM] = user.token_version
        return token


class TokenObtainSerializer(serializers.TokenObtainPairSerializer):
    token_class = VersionedRefreshToken


class TokenRefreshSerializer(serializers.TokenRefreshSerializer):
    token_class = VersionedRefreshToken

    def validate(self, attrs):
        refresh = self.token_class(attrs["refresh"])  # signature, expiry and type
        user = (
            get_user_model()
            .objects.filter(**{jwt_settings.USER_ID_FIELD: refresh.get(jwt_settings.USER_ID_CLAIM)})
            .only("pk", "is_active", "token_version")
            .first()
        )
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            )
        token_version_check(refresh, user)
        return super().validate(attrs)


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's header authentication, refusing revoked tokens (no extra query: the
    user is read anyway)."""

    def get_user(self, validated_token):
        user = super().get_user(validated_token)
        token_version_check(validated_token, user)
        return user


def client_ip(request) -> str | None:
    """The client's address by DRF's NUM_PROXIES rule (what throttles use), for
    django-axes (AXES_CLIENT_IP_CALLABLE). Whatever is not an address (a misconfigured
    proxy, a client reaching the server around it) falls back to the socket address."""
    address = BaseThrottle().get_ident(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return request.META.get("REMOTE_ADDR")
