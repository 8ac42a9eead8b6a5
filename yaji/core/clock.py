"""The platform's notion of "now", in one place so tests can move time.

Code that makes time-based decisions (leases, backoff, expiry) calls ``clock.now()`` through
the module (``from yaji.core import clock``), never ``from yaji.core.clock import now``, so a
test can ``monkeypatch.setattr(clock, "now", lambda: frozen)`` and every caller sees it.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return timezone.now()
