"""The fast path's WSGI layer (ADR 0043): routing, what reaches a handler, what never does,
and that Django gets every request the layer does not answer exactly as it arrived.

The identity check is the real one (the bearer-token cache, Redis only); the red-packet
handler's answers are compared with Django's in yaji/redpackets/tests/test_fast.py.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.conf import settings
from django.test import RequestFactory

from yaji.accounts import services as accounts
from yaji.accounts.tests.factories import PASSWORD, UserFactory
from yaji.core import fastpath
from yaji.core.errors import Conflict, NotFound
from yaji.core.fastpath import FastPath, FastRequest, fast_route

needs_redis = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")


@pytest.fixture
def routes(monkeypatch):  # type: ignore[no-untyped-def]
    """A routing table of this test's own (the apps' routes are put back afterwards)."""
    monkeypatch.setattr(fastpath, "_routes", {})
    return fastpath._routes


class Django:
    """Stands in for Django's WSGI application: records what it was handed."""

    def __init__(self) -> None:
        self.seen: list[tuple[dict[str, Any], bytes]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        self.seen.append((environ, environ["wsgi.input"].read(length)))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"django"]


def call(app: FastPath, environ: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
    got: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        got["status"], got["headers"] = status, dict(headers)

    body = b"".join(app(environ, start_response))
    return got["status"], got["headers"], body


def environ(path: str, *, method: str = "POST", body: bytes = b"{}", **extra: str) -> dict:
    return (
        RequestFactory()
        .generic(
            method,
            path,
            body,
            content_type="application/json",
            **{"HTTP_HOST": "testserver", **extra},
        )
        .environ
    )


def signed_in_token() -> str:
    user = UserFactory()
    result = accounts.user_authenticate(
        identifier=user.email, password=PASSWORD, device_id="phone-1"
    )
    token = accounts.api_token_issue(user=user, device=result.device).access_token
    for _ in range(2):  # learn the user, then cache the entry (ADR 0036)
        accounts.api_token_authenticate(raw_token=token)
    return token


def test_routes_need_a_literal_first_segment(routes) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="literal first segment"):
        fast_route("POST", r"/(?P<x>\w+)/claim")
    with pytest.raises(ValueError, match="literal first segment"):
        fast_route("POST", r"api/v1/x")
    fast_route("post", r"/api/v1/things/(?P<id>[0-9]+)")(lambda r: None)
    assert fastpath.fast_routes() == [("POST", r"/api/v1/things/(?P<id>[0-9]+)")]
    assert list(routes) == [("POST", "api")]


def test_the_apps_register_the_red_packet_grab() -> None:
    assert ("POST", r"/api/v1/red-packets/(?P<packet_id>[0-9]{1,18})/claim") in (
        fastpath.fast_routes()
    )


def test_no_route_leaves_the_request_untouched(routes) -> None:  # type: ignore[no-untyped-def]
    calls: list[FastRequest] = []
    fast_route("POST", r"/api/v1/things/(?P<id>[0-9]+)")(lambda r: calls.append(r) or Conflict())
    django = Django()
    app = FastPath(django)
    for env in (
        environ("/api/v1/things/1", method="GET"),  # other method
        environ("/api/v1/things/1/more"),  # full match only
        environ("/api/v1/other/1"),
        environ("/"),
        environ(""),
    ):
        stream = env["wsgi.input"]
        assert call(app, env) == ("200 OK", {"Content-Type": "text/plain"}, b"django")
        assert django.seen[-1][0] is env and env["wsgi.input"] is stream  # not even read
    assert calls == []


@pytest.mark.django_db
def test_without_a_cached_bearer_token_no_handler_runs(routes) -> None:  # type: ignore[no-untyped-def]
    calls: list[FastRequest] = []
    fast_route("POST", r"/api/v1/things/(?P<id>[0-9]+)")(lambda r: calls.append(r) or Conflict())
    django = Django()
    app = FastPath(django)
    for extra in (
        {},
        {"HTTP_AUTHORIZATION": "Basic dXNlcjpwdw=="},
        {"HTTP_AUTHORIZATION": "Bearer "},
        {"HTTP_AUTHORIZATION": "Bearer yat_never-issued"},
        {"HTTP_AUTHORIZATION": "Bearer not-even-our-prefix"},
    ):
        assert call(app, environ("/api/v1/things/7", body=b'{"a": 1}', **extra))[2] == b"django"
        assert django.seen[-1][1] == b'{"a": 1}'
    assert calls == []


@needs_redis
@pytest.mark.django_db
def test_a_handler_sees_the_request_and_its_answer_is_the_api_envelope(routes) -> None:  # type: ignore[no-untyped-def]
    seen: list[FastRequest] = []

    def handler(request: FastRequest):  # type: ignore[no-untyped-def]
        seen.append(request)
        return NotFound(extra={"id": request.params["id"]}) if request.params["id"] == "7" else None

    fast_route("POST", r"/api/v1/things/(?P<id>[0-9]+)")(handler)
    token = signed_in_token()
    django = Django()
    app = FastPath(django)
    env = environ(
        "/api/v1/things/7",
        body=b'{"a": 1}',
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_IDEMPOTENCY_KEY="k-1",
        HTTP_ACCEPT_LANGUAGE="en",
        HTTP_X_REQUEST_ID="req-42",
    )
    status, headers, body = call(app, env)
    assert status == "404 Not Found" and not django.seen
    assert json.loads(body) == {
        "code": "not_found",
        "message": "Not found.",
        "extra": {"id": "7"},
    }
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["Content-Language"] == "en" and headers["X-Request-ID"] == "req-42"
    assert headers["Content-Length"] == str(len(body))
    request = seen[0]
    assert request.method == "POST" and request.path == "/api/v1/things/7"
    assert request.params == {"id": "7"} and request.body == b'{"a": 1}'
    assert request.headers["idempotency-key"] == "k-1"
    assert request.headers["content-type"] == "application/json"
    assert request.user_id == accounts.api_token_authenticate(raw_token=token).user_id

    # None: Django gets the request, body included, although the layer read it.
    env = environ("/api/v1/things/8", body=b'{"b": 2}', HTTP_AUTHORIZATION=f"Bearer {token}")
    assert call(app, env)[2] == b"django" and django.seen[-1][1] == b'{"b": 2}'


@needs_redis
@pytest.mark.django_db
def test_a_failing_handler_falls_through(routes) -> None:  # type: ignore[no-untyped-def]
    def broken(request: FastRequest):  # type: ignore[no-untyped-def]
        raise RuntimeError("bug")

    fast_route("POST", r"/api/v1/things/(?P<id>[0-9]+)")(broken)
    token = signed_in_token()
    django = Django()
    env = environ("/api/v1/things/1", body=b"{}", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert call(FastPath(django), env)[2] == b"django" and django.seen[-1][1] == b"{}"


@needs_redis
@pytest.mark.django_db
def test_what_django_must_see_first_falls_through(routes, settings) -> None:  # type: ignore[no-untyped-def]
    fast_route("POST", r"/api/v1/things/(?P<id>[0-9]+)")(lambda r: Conflict())
    token = signed_in_token()
    django = Django()
    app = FastPath(django)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert call(app, environ("/api/v1/things/1", **bearer))[0].startswith("409")
    for extra in (
        {"HTTP_COOKIE": "sessionid=abc"},  # the site's session, or a language cookie
        {"HTTP_HOST": "attacker.example"},  # Django: 400 DisallowedHost
        {"HTTP_TRANSFER_ENCODING": "chunked"},
        {"CONTENT_LENGTH": str(fastpath.MAX_BODY + 1)},
    ):
        env = environ("/api/v1/things/1", **{**bearer, **extra})
        if "CONTENT_LENGTH" in extra:
            env["wsgi.input"] = io.BytesIO(b"x" * (fastpath.MAX_BODY + 1))
        assert call(app, env)[2] == b"django", extra
    settings.SECURE_SSL_REDIRECT = True
    assert call(app, environ("/api/v1/things/1", **bearer))[2] == b"django"  # Django redirects
    https = environ("/api/v1/things/1", **bearer)
    https["wsgi.url_scheme"] = "https"
    assert call(app, https)[0].startswith("409")


def test_the_switch_turns_it_off(settings) -> None:  # type: ignore[no-untyped-def]
    django = Django()
    assert isinstance(fastpath.fastpath_wrap(django), FastPath)
    settings.YAJI_FAST_PATH = False
    assert fastpath.fastpath_wrap(django) is django


def test_fast_request_headers_read_like_a_dict_of_all_of_them() -> None:
    environ = {
        "HTTP_IDEMPOTENCY_KEY": "k-1",
        "HTTP_X_EMPTY": "",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": "",
        "PATH_INFO": "/x",
    }
    headers = fastpath._Headers(environ)
    assert dict(headers) == {
        "idempotency-key": "k-1",
        "x-empty": "",
        "content-type": "application/json",
    }
    assert headers.get("Idempotency-Key") == "k-1"
    assert headers.get("x-empty") == ""
    assert headers.get("content-length") is None and "path-info" not in headers
