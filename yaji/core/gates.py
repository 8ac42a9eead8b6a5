"""What the Redis gates in front of hot paths share (red packets, flash sales): one gate
object per process per Redis URL and cache key prefix, and times as Redis-side milliseconds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from django.conf import settings

G = TypeVar("G")

_gates: dict[tuple[object, str, str], object] = {}


def redis_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def redis_gate(kind: Callable[[str, str], G]) -> G | None:
    """``kind(url, prefix)`` when Redis is configured (``REDIS_URL``), else None; built once
    per process for each URL and the default cache's key prefix."""
    url = getattr(settings, "REDIS_URL", None)
    if not url:
        return None
    prefix = settings.CACHES.get("default", {}).get("KEY_PREFIX", "") or ""
    prefix = f"{prefix}:" if prefix else ""
    key = (kind, url, prefix)
    gate = _gates.get(key)
    if gate is None:
        gate = _gates[key] = kind(url, prefix)
    return gate  # type: ignore[return-value]
