from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from yaji.core.errors import ApplicationError


class IdentifierBackend(ModelBackend):
    """Log in with an e-mail address or a mainland mobile number and a password.

    Used by ``django.contrib.auth.authenticate`` (the admin login, the site login form). Every
    attempt goes through :func:`yaji.accounts.services.user_authenticate`, so lockout, login
    events and devices apply here too. Django's API can only say "no", so a locked account
    and a wrong password look alike through it; views that want to show "locked, try again in
    N minutes" call ``user_authenticate`` directly. On success ``request.login_device`` is the
    device, for :func:`yaji.accounts.services.device_session_bind`.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ):  # type: ignore[no-untyped-def]
        from yaji.accounts.auth import request_device_id, request_ip, request_user_agent
        from yaji.accounts.services import user_authenticate

        identifier = (
            username or kwargs.get("identifier") or kwargs.get("email") or kwargs.get("phone")
        )
        if not identifier or password is None:
            return None
        try:
            result = user_authenticate(
                identifier=identifier,
                password=password,
                ip=request_ip(request),
                user_agent=request_user_agent(request),
                device_id=request_device_id(request),
            )
        except ApplicationError:
            return None
        if request is not None:
            request.login_device = result.device  # type: ignore[attr-defined]
        return result.user
