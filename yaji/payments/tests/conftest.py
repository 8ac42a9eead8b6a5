from __future__ import annotations

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _payments_settings(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.YAJI_SANDBOX_PAY_SECRET = "test-sandbox-secret"
    # Deterministic by default; the duplicate test turns it up to 1.
    settings.YAJI_SANDBOX_PAY_DUPLICATE_RATE = 0.0
    cache.clear()  # rate-limit counters (KYC attempts) are per process
