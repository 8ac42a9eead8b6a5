"""Fixtures for the storefront tests: users made through the accounts services."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import count

import pytest
from django.core.cache import cache
from django.test import Client

from yaji.accounts import services
from yaji.accounts.notifications import clear_sent_messages, last_code_for

PASSWORD = "墨香-Ink-2025!"
_serial = count(1)


@pytest.fixture(autouse=True)
def _fresh_limits(settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    # Codes go to the in-memory sink whatever the environment says (the live server of the
    # browser test runs in this process, so it sees the same sink).
    settings.YAJI_NOTIFY_SINK = "memory"
    # Rate-limit counters live in the process-wide cache; each test starts with none.
    cache.clear()
    clear_sent_messages()
    yield
    cache.clear()


@pytest.fixture
def make_user(db: None) -> Callable[..., object]:
    """Register a user the way the site does: code sent, code typed, account created."""

    def _make(*, email: str | None = None, display_name: str = "青衫客", password: str = PASSWORD):
        email = email or f"reader{next(_serial)}@example.com"
        services.verification_code_send(target=email, purpose="register")
        code = last_code_for(email)
        assert code
        user = services.user_register(
            identifier=email, code=code, password=password, display_name=display_name
        )
        # The account was made "earlier": its sign-up code does not count against the limits
        # or show up among the messages a test looks at.
        cache.clear()
        clear_sent_messages()
        return user

    return _make


@pytest.fixture
def user(make_user):  # type: ignore[no-untyped-def]
    return make_user(email="lanting@example.com", display_name="兰亭")


@pytest.fixture
def signed_in(client: Client, user) -> Client:  # type: ignore[no-untyped-def]
    """A client logged in through the real login page (so a device is recorded)."""
    response = client.post(
        "/account/login/",
        {"identifier": user.email, "password": PASSWORD},
        HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Chrome/130 TestBrowser",
    )
    assert response.status_code == 302, response.content[:500]
    return client
