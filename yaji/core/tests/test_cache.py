"""The Redis cache backend gives up on a Redis that stops answering instead of hanging."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import redis
from django.conf import settings

from yaji.core.cache import RedisCache


@pytest.fixture
def silent_server():
    """A TCP port that accepts connections and never answers (a hung Redis)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    listener.close()


def test_cache_read_times_out_on_a_silent_redis(silent_server):
    options = {**settings.REDIS_CACHE_OPTIONS, "socket_timeout": 0.2}
    cache = RedisCache(silent_server, {"OPTIONS": options})
    raised: list[BaseException] = []

    def read() -> None:
        try:
            cache.get("anything")
        except BaseException as exc:  # recorded for the assertion below
            raised.append(exc)

    # In a thread, so that a missing timeout fails this test instead of hanging the suite.
    reader = threading.Thread(target=read, daemon=True)
    started = time.monotonic()
    reader.start()
    reader.join(timeout=5)
    assert not reader.is_alive(), "the cache read is still waiting on a silent Redis"
    assert time.monotonic() - started < 2.0
    assert len(raised) == 1 and isinstance(raised[0], redis.TimeoutError)


def test_configured_cache_options_bound_every_socket_wait():
    assert 0 < settings.REDIS_CACHE_OPTIONS["socket_timeout"] <= 2
    assert 0 < settings.REDIS_CACHE_OPTIONS["socket_connect_timeout"] <= 2
    if settings.REDIS_URL:
        assert settings.CACHES["default"]["OPTIONS"] == settings.REDIS_CACHE_OPTIONS
