from __future__ import annotations

import pytest
from django.core.cache import cache

from yaji.risk.defaults import risk_rules_ensure_defaults
from yaji.risk.services import risk_rules_reload


@pytest.fixture(autouse=True)
def _fast_hasher(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # User ids repeat between tests; so would their rate-limit counters (KYC attempts).
    cache.clear()


@pytest.fixture(autouse=True)
def _default_rules(request) -> None:  # type: ignore[no-untyped-def]
    # A transactional test's flush wipes the data migration's rows: put them back.
    if request.node.get_closest_marker("django_db"):
        request.getfixturevalue("_django_db_helper")
        risk_rules_ensure_defaults()
    risk_rules_reload()
