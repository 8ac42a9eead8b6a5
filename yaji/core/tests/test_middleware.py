"""The site's middleware steps aside for bearer-token API calls without cookies (ADR 0053) and
nothing a client sees changes: every answer is the one Django's own middleware gives."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from yaji.core import middleware

pytestmark = pytest.mark.django_db

ORIGINALS = {
    "yaji.core.middleware.SiteCsrfViewMiddleware": "django.middleware.csrf.CsrfViewMiddleware",
    "yaji.core.middleware.SiteMessageMiddleware": (
        "django.contrib.messages.middleware.MessageMiddleware"
    ),
    "yaji.core.middleware.SiteHtmxMiddleware": "django_htmx.middleware.HtmxMiddleware",
}
DJANGOS = [ORIGINALS.get(path, path) for path in settings.MIDDLEWARE]
VARYING = {"X-Request-ID", "Date"}
PASSWORD = "Yaji-中间件-2026!"
_made = iter(range(10**6))


def make_user() -> Any:
    # The kernel's tests may not import the accounts app (layer contract): the user model.
    return get_user_model().objects.create_user(f"mw-{next(_made)}@example.com", PASSWORD)


def _login(client: Client, user: Any) -> str:
    response = client.post(
        "/api/v1/auth/login",
        {"identifier": user.email, "password": PASSWORD, "device_id": "m-1"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return str(response.json()["access_token"])


def _answer(response: Any) -> tuple[int, bytes, dict[str, str]]:
    headers = {k: v for k, v in response.headers.items() if k not in VARYING}
    return response.status_code, response.content, headers


def test_settings_keep_djangos_order() -> None:
    assert DJANGOS != settings.MIDDLEWARE
    assert not any(path.startswith("yaji.core.middleware") for path in DJANGOS)


@pytest.mark.parametrize(
    ("method", "path", "auth", "cookie", "status"),
    [
        ("GET", "/api/v1/me", "good", False, 200),
        ("GET", "/api/v1/me", "good", True, 200),  # with a session cookie: the whole chain
        ("GET", "/api/v1/me", "bad", False, 401),  # the session fallback finds nobody
        ("GET", "/api/v1/me", "bad", True, 200),  # ... or the session's user
        ("POST", "/api/v1/me/password", "bad", False, 403),  # the fallback's own CSRF check
        ("POST", "/api/v1/no-such-thing", "good", False, 403),  # a plain view: CSRF checked
        ("GET", "/api/v1/no-such-thing", "good", False, 404),
        ("GET", "/api/v1/me/red-packets/received", "good", False, 200),
    ],
)
def test_the_same_answer_as_djangos_middleware(
    method: str, path: str, auth: str, cookie: bool, status: int
) -> None:
    user = make_user()
    token = _login(Client(), user)
    headers = {"Authorization": f"Bearer {token if auth == 'good' else 'yat_nope'}"}
    answers = []
    for chain in (DJANGOS, settings.MIDDLEWARE):
        with override_settings(MIDDLEWARE=chain):
            client = Client(enforce_csrf_checks=True, headers={"Accept-Language": "en"})
            if cookie:
                client.force_login(user)
            call = client.get if method == "GET" else client.post
            answers.append(_answer(call(path, headers=headers)))
    assert answers[0] == answers[1]
    assert answers[0][0] == status, answers[0]


def test_which_requests_step_aside(monkeypatch: pytest.MonkeyPatch) -> None:
    user = make_user()
    token = _login(Client(), user)
    seen: dict[str, bool] = {}
    real = middleware.bearer_api_call

    def probe(name: str, client: Client, path: str, **kw: Any) -> None:
        def spy(request: Any) -> bool:
            seen[name] = real(request)
            return seen[name]

        monkeypatch.setattr(middleware, "bearer_api_call", spy)
        client.get(path, **kw)

    bearer = {"Authorization": f"Bearer {token}"}
    probe("api bearer", Client(), "/api/v1/me", headers=bearer)
    probe(
        "api lower-case scheme",
        Client(),
        "/api/v1/me",
        headers={"Authorization": f"bearer {token}"},
    )
    probe("api without token", Client(), "/api/v1/gifts")
    probe("site with a bearer header", Client(), "/", headers=bearer)
    with_session = Client()
    with_session.force_login(user)
    probe("api bearer with a session", with_session, "/api/v1/me", headers=bearer)
    probe("api bearer with any cookie", Client(), "/api/v1/me", headers={**bearer, "Cookie": "a=b"})
    assert seen == {
        "api bearer": True,
        "api lower-case scheme": True,
        "api without token": False,
        "site with a bearer header": False,
        "api bearer with a session": False,
        "api bearer with any cookie": False,
    }
