"""Django's Redis cache backend, without building a Redis client per call.

Django 5.2's ``RedisCacheClient.get_client`` constructs a new ``redis.Redis`` for every cache
operation (over a shared connection pool). Constructing one installs ~170 response callbacks;
profiled on the request path (ADR 0036) that was ~0.8 ms of CPU per authenticated request
(two cache reads), more than the reads themselves. A client is stateless over its pool and
safe to share between threads (redis-py), and the pool resets itself in a forked child, so
one client per pool is kept instead.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

# One pub/sub channel per cache: processes that keep near copies of cache entries hear of
# changes on it (ADR 0060).
EVENTS_CHANNEL = "events"
CLEARED = b"C"  # the message of a cleared cache


def events_channel(backend: Any) -> str:
    """The events channel of a Redis cache backend. Channels are one namespace per Redis server,
    not per database: the full name has the cache's key prefix and version (``make_key``) and
    its database number, so two caches on one server never hear each other."""
    db = backend._cache.get_client(write=True).connection_pool.connection_kwargs.get("db", 0)
    return str(backend.make_key(f"{EVENTS_CHANNEL}:{db}"))


class _ReusingClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[bool, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        client = self._clients.get(write)
        if client is None:
            client = self._client(connection_pool=self._get_connection_pool(write))
            self._clients[write] = client
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ReusingClient

    def clear(self) -> None:
        """FLUSHDB, and then tell every process's near copies of cache entries (ADR 0060:
        the bearer-token copies) that everything is gone."""
        super().clear()
        self._cache.get_client(write=True).publish(events_channel(self), CLEARED)
