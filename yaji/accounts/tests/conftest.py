from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.core.cache import cache
from django.test import Client

from yaji.accounts import services
from yaji.accounts.models import User
from yaji.accounts.notifications import clear_sent_messages, last_code_for
from yaji.accounts.tests.factories import PASSWORD, UserFactory


@pytest.fixture(autouse=True)
def _memory_sink(settings) -> None:  # type: ignore[no-untyped-def]
    # The root conftest sets YAJI_NOTIFY_SINK=memory in the environment, but pytest-django
    # loads the settings before that conftest runs; pin it here so codes are readable.
    settings.YAJI_NOTIFY_SINK = "memory"


@pytest.fixture(autouse=True)
def _fast_hasher(settings) -> None:  # type: ignore[no-untyped-def]
    # argon2 is what production uses (asserted in test_registration); tests need speed.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_limits() -> Iterator[None]:
    # Rate-limit counters live in the process-wide cache; every test starts with none.
    cache.clear()
    clear_sent_messages()
    yield
    cache.clear()


@pytest.fixture
def register(db: None) -> Callable[..., User]:
    """Register through the real flow: send a code, read it from the memory sink, sign up."""

    def _register(identifier: str, password: str = PASSWORD, **kwargs) -> User:  # type: ignore[no-untyped-def]
        services.verification_code_send(target=identifier, purpose="register")
        code = last_code_for(identifier)
        assert code is not None
        return services.user_register(identifier=identifier, code=code, password=password, **kwargs)

    return _register


@pytest.fixture
def user(db: None) -> User:
    return UserFactory(email="daiyu@example.com", phone="13812345678")


class Api:
    """A JSON client for /api/v1/ with an optional bearer token."""

    def __init__(self) -> None:
        self.client = Client()
        self.token: str | None = None

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        merged = dict(headers or {})
        if self.token:
            merged.setdefault("Authorization", f"Bearer {self.token}")
        return merged

    def get(self, path: str, **kw):  # type: ignore[no-untyped-def]
        return self.client.get(
            f"/api/v1{path}", headers=self._headers(kw.pop("headers", None)), **kw
        )

    def delete(self, path: str, **kw):  # type: ignore[no-untyped-def]
        return self.client.delete(
            f"/api/v1{path}", headers=self._headers(kw.pop("headers", None)), **kw
        )

    def post(self, path: str, data: dict | None = None, **kw):  # type: ignore[no-untyped-def]
        return self.client.post(
            f"/api/v1{path}",
            data or {},
            content_type="application/json",
            headers=self._headers(kw.pop("headers", None)),
            **kw,
        )

    def patch(self, path: str, data: dict, **kw):  # type: ignore[no-untyped-def]
        return self.client.patch(
            f"/api/v1{path}",
            data,
            content_type="application/json",
            headers=self._headers(kw.pop("headers", None)),
            **kw,
        )

    def login(self, identifier: str, password: str = PASSWORD, device_id: str = "dev-1") -> dict:
        response = self.post(
            "/auth/login", {"identifier": identifier, "password": password, "device_id": device_id}
        )
        assert response.status_code == 200, response.content
        body = response.json()
        self.token = body["access_token"]
        return body


@pytest.fixture
def api(db: None) -> Api:
    return Api()


@pytest.fixture
def make_api(db: None) -> Callable[[], Api]:
    return Api
