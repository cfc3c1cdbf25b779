"""Who a request comes from, for throttles and login lockout: the socket address, or,
behind NUM_PROXIES trusted proxies, the address the nearest of them saw. A client can
write anything in X-Forwarded-For, so it must not choose its own identity."""

import pytest
from axes.models import AccessAttempt
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

pytestmark = pytest.mark.django_db


def token_rate():
    number, _ = ScopedRateThrottle().parse_rate(ScopedRateThrottle.THROTTLE_RATES["token"])
    return number


def ask_token(api, username, forwarded, remote="198.51.100.7"):
    return api.post(
        "/api/auth/token/",
        {"username": username, "password": "wrong"},
        REMOTE_ADDR=remote,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


def test_no_proxy_setting_means_clients_connect_directly(settings):
    from rest_framework.settings import api_settings

    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0
    assert api_settings.NUM_PROXIES == 0


def test_a_forged_forwarded_for_does_not_escape_the_token_throttle():
    rate = token_rate()
    api = APIClient()
    responses = [ask_token(api, f"nobody{n}", forwarded=f"203.0.113.{n}") for n in range(rate + 5)]
    codes = [r.status_code for r in responses]
    assert codes[:rate] == [401] * rate
    assert codes[rate:] == [429] * 5
    assert responses[-1].json()["error"]["code"] == "throttled"
    # Another machine is not held back by the first one's requests.
    assert ask_token(api, "nobody", forwarded="", remote="198.51.100.8").status_code == 401


def test_lockout_is_keyed_on_the_socket_address_without_proxies():
    ask_token(APIClient(), "nobody", forwarded="203.0.113.9")
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["198.51.100.7"]


@pytest.fixture
def one_proxy(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}


def test_behind_one_proxy_the_last_forwarded_address_is_the_client(one_proxy):
    rate = token_rate()
    api = APIClient()
    # The client forges the start of the header; the proxy appends what it saw.
    codes = [
        ask_token(api, f"nobody{n}", forwarded=f"10.9.9.{n}, 203.0.113.5").status_code
        for n in range(rate + 5)
    ]
    assert codes[:rate] == [401] * rate
    assert codes[rate:] == [429] * 5
    # Another client behind the same proxy still gets through.
    assert ask_token(api, "nobody", forwarded="203.0.113.6").status_code == 401


def test_behind_one_proxy_lockout_uses_the_same_address(one_proxy):
    ask_token(APIClient(), "nobody", forwarded="10.9.9.9, 203.0.113.5")
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.5"]
