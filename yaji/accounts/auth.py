"""Request authentication for the API (bearer tokens, or the site's session) and request facts.

Other apps' routers reuse it::

    from yaji.accounts.auth import api_auth
    router = Router(tags=["trade"], auth=api_auth)   # request.auth is the User
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer, django_auth

from yaji.accounts.errors import TokenInvalid

DEVICE_ID_HEADER = "HTTP_X_DEVICE_ID"


class BearerAuth(HttpBearer):
    """``Authorization: Bearer <access token>`` from ``POST /auth/login`` or ``/auth/refresh``.

    On success ``request.auth`` and ``request.user`` are the user and ``request.api_token``
    is the token row (``device_id`` is the signed-in device; the device row is not loaded).
    """

    def authenticate(self, request: HttpRequest, token: str):  # type: ignore[no-untyped-def]
        from yaji.accounts.services import api_token_authenticate

        try:
            api_token = api_token_authenticate(raw_token=token)
        except TokenInvalid:
            return None
        request.user = api_token.user
        request.api_token = api_token  # type: ignore[attr-defined]
        return api_token.user


bearer_auth = BearerAuth()
# Bearer first (no CSRF needed); then the site session, which ninja checks for CSRF.
api_auth = [bearer_auth, django_auth]


def request_ip(request: HttpRequest | None) -> str | None:
    """The client address as the WSGI server saw it (put a proxy's real-IP fix in front)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def request_user_agent(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    return (request.META.get("HTTP_USER_AGENT") or "")[:512]


def request_device_id(request: HttpRequest | None) -> str:
    """The ``X-Device-Id`` header an app sends to name its install (optional)."""
    if request is None:
        return ""
    return (request.META.get(DEVICE_ID_HEADER) or "")[:200]
