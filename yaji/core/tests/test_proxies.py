"""The client's address behind trusted reverse proxies (ADR 0062)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from yaji.core.proxies import (
    PROXY_ADDR_KEY,
    forwarded_client,
    forwarded_scheme,
    trusted_networks,
    trusted_proxies_wrap,
)

NETS = trusted_networks(("127.0.0.1", "10.0.0.0/8", "::1"))


@pytest.mark.parametrize(
    ("remote", "forwarded_for", "client"),
    [
        ("127.0.0.1", "203.0.113.7", "203.0.113.7"),  # one proxy
        ("127.0.0.1", " 203.0.113.7 , 10.1.2.3", "203.0.113.7"),  # a chain of trusted proxies
        ("127.0.0.1", "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the left part is forgeable
        ("127.0.0.1", "10.1.2.3, 10.4.5.6", "10.1.2.3"),  # every hop trusted: the left-most
        ("127.0.0.1", "203.0.113.7, not-an-ip", "127.0.0.1"),  # malformed nearest: the proxy
        ("127.0.0.1", "junk, 203.0.113.7", "203.0.113.7"),
        ("127.0.0.1", "2001:db8::5", "2001:db8::5"),
        ("::1", "2001:DB8:0:0::5", "2001:db8::5"),  # written the one way Python writes it
        ("127.0.0.1", "", "127.0.0.1"),
        ("198.51.100.9", "203.0.113.7", "198.51.100.9"),  # not from a proxy: never believed
        ("", "203.0.113.7", ""),
    ],
)
def test_the_client_is_the_first_untrusted_hop_from_the_right(
    remote: str, forwarded_for: str, client: str
) -> None:
    assert forwarded_client(remote, forwarded_for, NETS) == client


def test_no_trusted_proxies_rewrites_nothing() -> None:
    assert forwarded_client("127.0.0.1", "203.0.113.7", ()) == "127.0.0.1"


def test_a_bad_entry_is_a_configuration_error() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"10\.0\.0\.300"):
        trusted_networks(("127.0.0.1", "10.0.0.300"))


def _seen(environ: dict[str, Any]) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def app(env: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.update(env)
        start_response("204 No Content", [])
        return []

    trusted_proxies_wrap(app)(environ, lambda *a: None)
    return seen


def test_the_wsgi_layer_rewrites_remote_addr_and_keeps_the_proxys(settings) -> None:  # type: ignore[no-untyped-def]
    settings.YAJI_TRUSTED_PROXIES = ["127.0.0.1"]
    seen = _seen({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.7"})
    assert seen["REMOTE_ADDR"] == "203.0.113.7" and seen[PROXY_ADDR_KEY] == "127.0.0.1"
    spoofed = _seen({"REMOTE_ADDR": "198.51.100.9", "HTTP_X_FORWARDED_FOR": "203.0.113.7"})
    assert spoofed["REMOTE_ADDR"] == "198.51.100.9" and PROXY_ADDR_KEY not in spoofed
    settings.YAJI_TRUSTED_PROXIES = []
    direct = _seen({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.7"})
    assert direct["REMOTE_ADDR"] == "127.0.0.1"


@pytest.mark.parametrize(
    ("value", "scheme"),
    [("https", "https"), (" HTTPS , http", "https"), ("http", "http"), ("ftp", None), ("", None)],
)
def test_the_scheme_is_the_edge_proxys(value: str, scheme: str | None) -> None:
    assert forwarded_scheme(value) == scheme


def test_the_scheme_is_taken_from_a_trusted_proxy_only(settings) -> None:  # type: ignore[no-untyped-def]
    settings.YAJI_TRUSTED_PROXIES = ["127.0.0.1"]
    behind = {"REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http"}
    assert _seen({**behind, "HTTP_X_FORWARDED_PROTO": "https"})["wsgi.url_scheme"] == "https"
    assert _seen({**behind, "HTTP_X_FORWARDED_PROTO": "gopher"})["wsgi.url_scheme"] == "http"
    direct = {"REMOTE_ADDR": "198.51.100.9", "wsgi.url_scheme": "http"}
    assert _seen({**direct, "HTTP_X_FORWARDED_PROTO": "https"})["wsgi.url_scheme"] == "http"


def _status(application: Any, **environ: str) -> int:
    from django.test import RequestFactory

    request = RequestFactory().get("/healthz", **environ).environ
    status: list[str] = []
    b"".join(application(request, lambda s, _h, *_a: status.append(s)))
    return int(status[0].split()[0])


@pytest.mark.django_db  # Django's request_started closes old connections
def test_behind_a_tls_proxy_no_https_redirect_is_due(settings) -> None:  # type: ignore[no-untyped-def]
    from yaji.core.proxies import wsgi_application_build

    settings.SECURE_SSL_REDIRECT = True
    settings.YAJI_TRUSTED_PROXIES = ["127.0.0.1"]
    application = wsgi_application_build()
    assert _status(application, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_PROTO="https") == 200
    assert _status(application, REMOTE_ADDR="127.0.0.1") == 301  # the client used http
    spoofed = {"REMOTE_ADDR": "198.51.100.9", "HTTP_X_FORWARDED_PROTO": "https"}
    assert _status(application, **spoofed) == 301
