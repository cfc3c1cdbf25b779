"""The cache on Redis, which a Redis that cannot be reached does not turn into errors.

Everything the project keeps in the cache can be done without it: the API's rate limits,
the dashboard's figures, the admin filters' values, a rate table's upload between preview
and confirm. So while Redis is down (it is the Celery broker too) a read is a miss, a
write keeps nothing, and each is logged; the sales, payments and exports that post
meanwhile commit as usual instead of answering 500 (issue #19). A rate limit counts
nothing while Redis is down: the API lets requests through, and logins are still locked
out after failures (django-axes counts them in the database).
"""

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)


def _or(fallback: Callable[..., Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The client's method, answering `fallback(*args)` when Redis cannot be reached."""

    def decorate(method: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(method)
        def forgiving(self: RedisCacheClient, *args: Any) -> Any:
            try:
                return method(self, *args)
            except UNREACHABLE as exc:
                logger.warning(
                    "Cache %s skipped: Redis cannot be reached (%s)", method.__name__, exc
                )
                return fallback(*args)

        return forgiving

    return decorate


def _not_found(key: Any, delta: Any) -> None:
    raise ValueError(f"Key {key!r} not found: the cache (Redis) cannot be reached")


class _ForgivingClient(RedisCacheClient):
    add = _or(lambda key, value, timeout: False)(RedisCacheClient.add)
    get = _or(lambda key, default: default)(RedisCacheClient.get)
    set = _or(lambda key, value, timeout: None)(RedisCacheClient.set)
    touch = _or(lambda key, timeout: False)(RedisCacheClient.touch)
    delete = _or(lambda key: False)(RedisCacheClient.delete)
    get_many = _or(lambda keys: {})(RedisCacheClient.get_many)
    has_key = _or(lambda key: False)(RedisCacheClient.has_key)
    incr = _or(_not_found)(RedisCacheClient.incr)
    set_many = _or(lambda data, timeout: None)(RedisCacheClient.set_many)
    delete_many = _or(lambda keys: None)(RedisCacheClient.delete_many)
    clear = _or(lambda: False)(RedisCacheClient.clear)


class RedisCache(DjangoRedisCache):
    """settings.CACHES' backend when REDIS_URL is set."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ForgivingClient
