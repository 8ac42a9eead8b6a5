"""Test helpers for payments: an API client, signed sandbox notifications, the relay."""

from __future__ import annotations

import json
import secrets
import uuid
from typing import Any

from django.test import Client

from yaji.accounts.tests.factories import PASSWORD, UserFactory
from yaji.core.outbox import outbox_relay_once
from yaji.payments.models import PaymentIntent
from yaji.payments.providers.sandbox import sandbox_sign

__all__ = ["Api", "UserFactory", "notification", "relay_all", "signed_post"]

NOTIFY_PATH = "/api/v1/payments/notify/sandbox"


class Api:
    def __init__(self, user: Any = None) -> None:
        self.client = Client()
        self.headers: dict[str, str] = {}
        if user is not None:
            response = self.client.post(
                "/api/v1/auth/login",
                {"identifier": user.email, "password": PASSWORD, "device_id": "t-1"},
                content_type="application/json",
            )
            assert response.status_code == 200, response.content
            self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(f"/api/v1{path}", headers=self.headers, **kw)

    def post_json(self, path: str, data: dict | None = None, headers: dict | None = None) -> Any:
        return self.client.post(
            f"/api/v1{path}",
            data or {},
            content_type="application/json",
            headers={**self.headers, **(headers or {})},
        )

    def topup(self, amount_fen: Any, key: str | None = None) -> Any:
        return self.post_json(
            "/wallet/topups",
            {"amount_fen": amount_fen},
            headers={"Idempotency-Key": key or uuid.uuid4().hex},
        )


def notification(
    intent: PaymentIntent,
    *,
    status: str = "succeeded",
    event_id: str | None = None,
    amount_fen: int | None = None,
    currency: str | None = None,
) -> bytes:
    return json.dumps(
        {
            "id": event_id or "evt_" + secrets.token_hex(8),
            "type": f"payment.{status}",
            "reference": intent.provider_reference,
            "amount_fen": intent.amount_fen if amount_fen is None else amount_fen,
            "currency": currency or intent.currency,
        }
    ).encode()


def signed_post(client: Client, body: bytes, **sign: Any) -> Any:
    headers = sandbox_sign(body, **sign)
    return client.post(NOTIFY_PATH, body, content_type="application/json", headers=headers)


def relay_all() -> None:
    while outbox_relay_once():
        pass
