"""A small cache-backed rate limiter (fixed window starting at the first hit).

Works on any Django cache that has atomic ``add`` and ``incr`` — locmem in the embedded
install, Redis in production (where every app server shares the counters).
"""

from __future__ import annotations

import math
import time

from django.core.cache import cache

from yaji.core.errors import RateLimited

_PREFIX = "rl:"


def rate_limit_hit(*, key: str, limit: int, window_s: int) -> None:
    """Count one hit for ``key``; raise :class:`RateLimited` once ``limit`` hits are exceeded.

    The window starts with the first hit and lasts ``window_s`` seconds; ``extra.retry_after``
    says how many seconds are left of it.
    """
    count_key = f"{_PREFIX}{key}"
    reset_key = f"{_PREFIX}{key}:reset"
    for _attempt in range(3):
        now = time.time()
        if cache.add(count_key, 0, timeout=window_s):
            cache.set(reset_key, now + window_s, timeout=window_s)
        try:
            count = cache.incr(count_key)
            break
        except ValueError:  # expired between add and incr: start a new window
            continue
    else:  # pragma: no cover - the cache keeps losing the key; fail closed
        count = limit + 1
    if count > limit:
        reset_at = cache.get(reset_key) or (time.time() + window_s)
        retry_after = max(1, math.ceil(reset_at - time.time()))
        raise RateLimited(extra={"retry_after": retry_after})


def rate_limit_peek(*, key: str) -> int:
    """How many hits ``key`` has in its current window (0 when none)."""
    return int(cache.get(f"{_PREFIX}{key}") or 0)


def rate_limit_reset(*, key: str) -> None:
    cache.delete_many([f"{_PREFIX}{key}", f"{_PREFIX}{key}:reset"])
