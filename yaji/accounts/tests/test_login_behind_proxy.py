"""A login through a trusted reverse proxy records the client's address (ADR 0062)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import RequestFactory

from yaji.accounts.models import Device
from yaji.accounts.tests.factories import PASSWORD, UserFactory
from yaji.core.proxies import wsgi_application_build


def _login(application: Any, *, user: Any, forwarded_for: str, device_id: str) -> int:
    body = json.dumps(
        {"identifier": user.email, "password": PASSWORD, "device_id": device_id}
    ).encode()
    environ = (
        RequestFactory()
        .generic(
            "POST",
            "/api/v1/auth/login",
            body,
            content_type="application/json",
            HTTP_X_FORWARDED_FOR=forwarded_for,
            REMOTE_ADDR="127.0.0.1",
        )
        .environ
    )
    status: list[str] = []
    b"".join(application(environ, lambda s, _h, *_a: status.append(s)))
    return int(status[0].split()[0])


@pytest.mark.django_db(transaction=True)
def test_a_login_through_the_proxy_records_the_clients_address(settings) -> None:  # type: ignore[no-untyped-def]
    settings.YAJI_TRUSTED_PROXIES = ["127.0.0.1"]
    application = wsgi_application_build()
    user = UserFactory()
    assert _login(application, user=user, forwarded_for="203.0.113.7", device_id="a") == 200
    settings.YAJI_TRUSTED_PROXIES = []
    assert _login(application, user=user, forwarded_for="203.0.113.7", device_id="b") == 200
    addresses = list(Device.objects.filter(user=user).order_by("id").values_list("last_ip"))
    assert addresses == [("203.0.113.7",), ("127.0.0.1",)]
