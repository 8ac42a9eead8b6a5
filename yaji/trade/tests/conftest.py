from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import cache

from yaji.catalog.defaults import catalog_defaults_seed


@pytest.fixture(autouse=True)
def _isolated(request: pytest.FixtureRequest, settings, tmp_path: Path) -> Iterator[None]:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.YAJI_NOTIFY_SINK = "memory"
    if request.node.get_closest_marker("django_db"):
        catalog_defaults_seed()
    cache.clear()
    yield
    cache.clear()
