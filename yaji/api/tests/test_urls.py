"""The API's routes grouped by first segment (ADR 0036) resolve exactly as ninja's flat list."""

from __future__ import annotations

import re

from django.urls import URLPattern, resolve, reverse

from yaji.api.api import api, api_urls


def _sample(route: str) -> str:
    return re.sub(r"<(?:(\w+):)?\w+>", lambda m: "7" if m.group(1) in {"int", None} else "x", route)


def test_every_route_resolves_to_the_same_route_under_the_same_name() -> None:
    flat, _app, _ns = api.urls
    grouped, _app2, _ns2 = api_urls()
    assert len(grouped) < len(flat) / 2  # the point: far fewer patterns tried per request
    seen: set[str] = set()
    for pattern in flat:
        assert isinstance(pattern, URLPattern)
        if str(pattern.pattern) in seen:
            continue  # one path, several methods (GET/PATCH /me): Django stops at the first
        seen.add(str(pattern.pattern))
        path = "/api/v1/" + _sample(str(pattern.pattern))
        match = resolve(path)
        # api.urls builds fresh view wrappers on every call: compare route and name.
        assert match.route == "api/v1/" + str(pattern.pattern), path
        assert match.url_name == pattern.name
        assert match.namespace == "api"


def test_reverse_still_builds_the_public_paths() -> None:
    assert reverse("api:red_packet_claim", kwargs={"packet_id": 3}) == (
        "/api/v1/red-packets/3/claim"
    )
    assert reverse("api:me_devices") == "/api/v1/me/devices"
    assert reverse("api:openapi-json") == "/api/v1/openapi.json"
