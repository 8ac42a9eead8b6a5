"""Test environment: isolated data dir, deterministic keys, memory notifications, no network.

Loaded with ``-p yaji.pytest_plugin`` (pyproject.toml) so it runs before pytest-django imports
the settings, which read these variables once.
"""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

# Settings read these at import time, so they are set before Django starts.
_data_dir = tempfile.mkdtemp(prefix="yaji-test-")
os.environ.setdefault("YAJI_DATA_DIR", _data_dir)


def _redis_database_per_worker() -> None:
    """Give each xdist worker its own Redis database (base number + worker index).

    Tests reset rate-limit counters with ``cache.clear()``, which is FLUSHDB on Redis: with one
    shared database a worker would wipe the counters another worker's test is counting.
    """
    url = os.environ.get("REDIS_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url or not worker.startswith("gw"):
        return
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    database = base + int(worker[2:])
    if database > 15:
        raise RuntimeError(f"REDIS_URL database {base} leaves no room for xdist worker {worker}")
    os.environ["REDIS_URL"] = urlunsplit(parts._replace(path=f"/{database}"))


_redis_database_per_worker()
os.environ.setdefault("YAJI_ENCRYPTION_KEYS", "t1:" + "A" * 43 + "=")
os.environ.setdefault("YAJI_LOOKUP_KEY", "test-lookup-key")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("YAJI_LOG_FORMAT", "text")
os.environ.setdefault("YAJI_LOG_LEVEL", "WARNING")
os.environ.setdefault("YAJI_NOTIFY_SINK", "memory")
# Off by default: a test's transaction never commits, so the page versions its changes bump
# (on commit) never move; the page cache's own tests turn it on and run the commit hooks.
os.environ.setdefault("YAJI_PAGE_CACHE", "0")
# Playwright drives a live server from async-capable code; Django must allow sync DB calls there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address) -> None:  # type: ignore[no-untyped-def]
    """Tests may talk to services on this machine, never to the network."""
    host = address[0] if isinstance(address, tuple) else address
    is_ip = self.family in (socket.AF_INET, socket.AF_INET6)
    loopback = {"127.0.0.1", "::1", "localhost"}
    if is_ip and isinstance(host, str) and host not in loopback and not host.startswith("127."):
        raise RuntimeError(f"network access blocked in tests: {address!r}")
    _real_connect(self, address)


socket.socket.connect = _loopback_only  # type: ignore[method-assign]


# Fixtures every app's tests may use.
from yaji.testing.browser import browser  # noqa: E402, F401


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Every test starts in the site's default language (zh-hans): a request or a test that
    activated English in this thread must not leak it into the next test."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def token_cache_off(settings):  # type: ignore[no-untyped-def]
    """For query budgets that count the bearer token's look-up: with Redis configured the token
    cache (ADR 0036) answers it instead, depending on what an earlier request cached."""
    settings.YAJI_AUTH_CACHE = "off"
