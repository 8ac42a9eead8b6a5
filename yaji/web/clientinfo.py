"""What a site view knows about the client: its address, user agent and device cookie.

The device cookie (``yaji_device``) is a random id the browser keeps for two years. The
accounts services use it to recognise a returning browser; it carries no personal data.
"""

from __future__ import annotations

import re
import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse

DEVICE_COOKIE = "yaji_device"
DEVICE_COOKIE_MAX_AGE = 2 * 365 * 24 * 3600
_DEVICE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR: behind trusted proxies already the client's (yaji.core.proxies, ADR 0062).
    return request.META.get("REMOTE_ADDR") or None


def client_user_agent(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:512]


def device_id_get(request: HttpRequest) -> str:
    """The browser's device id, minted (and remembered on the request) when it has none."""
    cached = getattr(request, "_yaji_device_id", None)
    if cached:
        return cached
    value = request.COOKIES.get(DEVICE_COOKIE, "")
    if not _DEVICE_ID_RE.match(value):
        value = secrets.token_urlsafe(18)
        request._yaji_device_id_new = True  # type: ignore[attr-defined]  # read by device_cookie_set
    request._yaji_device_id = value  # type: ignore[attr-defined]  # one id per request
    return value


def device_cookie_set(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Persist the device id minted for this request, if one was."""
    if getattr(request, "_yaji_device_id_new", False):
        response.set_cookie(
            DEVICE_COOKIE,
            device_id_get(request),
            max_age=DEVICE_COOKIE_MAX_AGE,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
    return response
