"""Project-wide pytest setup: isolated data dir, deterministic keys, no network."""

from __future__ import annotations

import os
import socket
import tempfile

import pytest

# Settings read these at import time, so they are set before Django starts.
_data_dir = tempfile.mkdtemp(prefix="yaji-test-")
os.environ.setdefault("YAJI_DATA_DIR", _data_dir)
os.environ.setdefault("YAJI_ENCRYPTION_KEYS", "t1:" + "A" * 43 + "=")
os.environ.setdefault("YAJI_LOOKUP_KEY", "test-lookup-key")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("YAJI_LOG_FORMAT", "text")
os.environ.setdefault("YAJI_LOG_LEVEL", "WARNING")
os.environ.setdefault("YAJI_NOTIFY_SINK", "memory")
# Playwright drives a live server from async-capable code; Django must allow sync DB calls there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address) -> None:  # type: ignore[no-untyped-def]
    """Tests may talk to services on this machine, never to the network."""
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and self.family in (socket.AF_INET, socket.AF_INET6):
        if host not in {"127.0.0.1", "::1", "localhost", "0.0.0.0"} and not host.startswith("127."):
            raise RuntimeError(f"network access blocked in tests: {address!r}")
    _real_connect(self, address)


socket.socket.connect = _loopback_only  # type: ignore[method-assign]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from django.conf import settings

    if settings.IS_POSTGRES:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)
