from __future__ import annotations

import pytest
from django.core.cache import cache

from yaji.moderation.defaults import moderation_defaults_seed
from yaji.redpackets.gate import packet_gate
from yaji.redpackets.gift_catalogue import gift_catalogue_ensure_defaults
from yaji.risk.defaults import risk_rules_ensure_defaults
from yaji.risk.services import risk_rules_reload


@pytest.fixture(autouse=True)
def _fast_hasher(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # User ids repeat between tests; so would their rate-limit counters (KYC attempts).
    cache.clear()


@pytest.fixture(autouse=True)
def _seed_data(request) -> None:  # type: ignore[no-untyped-def]
    # A transactional test's flush wipes the data migrations' rows: put them back.
    if request.node.get_closest_marker("django_db"):
        request.getfixturevalue("_django_db_helper")
        risk_rules_ensure_defaults()
        gift_catalogue_ensure_defaults()
        moderation_defaults_seed()
    risk_rules_reload()


@pytest.fixture(autouse=True)
def _fresh_gate() -> None:
    """Packet ids restart with each test database: drop gate keys left by earlier tests."""
    gate = packet_gate()
    if gate is not None:
        keys = list(gate.client.scan_iter(match=f"{gate.prefix}rp:*", count=1000))
        if keys:
            gate.client.delete(*keys)
