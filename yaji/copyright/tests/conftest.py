from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path: Path) -> Iterator[None]:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.YAJI_COPYRIGHT_LOG_KEY = "0QJH3lLZq1n9QdK1bLrO2J5eYQe2w0m4z0b1h7m3c8E="
    settings.YAJI_COPYRIGHT_LOG_ORIGIN = "test.yaji/copyright"
    cache.clear()
    yield
    cache.clear()


class _Freezer:
    def __init__(self, start) -> None:  # type: ignore[no-untyped-def]
        self.now = start

    def tick(self, delta) -> None:  # type: ignore[no-untyped-def]
        self.now = self.now + delta


@pytest.fixture
def freezer(monkeypatch):  # type: ignore[no-untyped-def]
    """The platform clock, stopped and moved by hand (``freezer.tick(timedelta(...))``)."""
    from django.utils import timezone

    from yaji.core import clock

    frozen = _Freezer(timezone.now())
    monkeypatch.setattr(clock, "now", lambda: frozen.now)
    return frozen
