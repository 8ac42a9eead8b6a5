from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from yaji.moderation.defaults import moderation_defaults_seed
from yaji.moderation.rules import rules_invalidate


@pytest.fixture(autouse=True)
def _moderation_defaults(request: pytest.FixtureRequest) -> None:
    # A transactional test earlier on this worker may have flushed the migration-seeded words.
    if request.node.get_closest_marker("django_db"):
        moderation_defaults_seed()


@pytest.fixture(autouse=True)
def _isolated(settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.YAJI_NOTIFY_SINK = "memory"
    cache.clear()
    rules_invalidate()
    yield
    cache.clear()
    rules_invalidate()
