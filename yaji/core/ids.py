"""Time-ordered identifiers.

Event ids are UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, a 12-bit counter that keeps ids
strictly increasing within this process (RFC 9562 §6.2, method 1), then 62 random bits. They sort
by creation time, which keeps b-tree inserts at the right edge of the index, and they are unique
without coordination, so a consumer can de-duplicate on them.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid

_lock = threading.Lock()
_last = 0  # (milliseconds << 12 | counter) of the previous id


def new_event_id() -> uuid.UUID:
    global _last
    with _lock:
        # When the counter overflows within one millisecond it carries into the timestamp,
        # running a hair ahead of the clock rather than ever going backwards.
        stamp = max(time.time_ns() // 1_000_000 << 12, _last + 1)
        _last = stamp
    millis, counter = stamp >> 12, stamp & 0xFFF
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= counter << 64
    value |= 0b10 << 62  # RFC 9562 variant
    value |= secrets.randbits(62)
    return uuid.UUID(int=value)
