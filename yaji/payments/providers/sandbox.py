"""The sandbox payment provider: behaves like a real one, runs entirely inside the platform.

- ``create_payment`` opens a :class:`SandboxPayment` (the provider's own record) and returns
  the hosted pay page ``/pay/sandbox/<reference>/`` as the redirect URL and QR payload.
- On that page a person presses "支付 Pay" or "模拟失败 Fail" (:func:`sandbox_payer_decide`).
  The decision is final on the provider's side (a conditional update from ``pending``).
- The provider then notifies the platform **asynchronously**: the decision publishes an outbox
  event ``payments.sandbox_notify`` carrying the notification body; the relay delivers it (at
  least once, retried with backoff) to :func:`sandbox_notify_deliver`, which — like a real
  provider's sender on each attempt — signs the body afresh and hands the signed bytes and
  headers to the very function the HTTP endpoint ``POST /api/v1/payments/notify/sandbox``
  calls, so the signature and timestamp checks run on every delivery.
- **Duplicates**: with probability ``settings.YAJI_SANDBOX_PAY_DUPLICATE_RATE`` (env
  ``YAJI_SANDBOX_PAY_DUPLICATE_RATE``, default 0.1; 1 = always) the same notification (same
  event id) is published twice, as real providers do; the platform processes it once.

Signature: ``Yaji-Sandbox-Signature = hex(HMAC-SHA256(secret, timestamp + "\\n" + nonce +
"\\n" + body))`` with ``Yaji-Sandbox-Timestamp`` (Unix seconds) and ``Yaji-Sandbox-Nonce``;
the secret is ``settings.YAJI_SANDBOX_PAY_SECRET``. Notifications more than
:data:`TOLERANCE_SECONDS` from now (either way) are refused as stale.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from yaji.core import clock
from yaji.core.errors import ApplicationError
from yaji.core.money import Money
from yaji.core.outbox import outbox_publish, outbox_subscribe
from yaji.payments.errors import (
    InvalidSignature,
    MalformedNotification,
    SandboxPaymentClosed,
    StaleNotification,
)
from yaji.payments.models import SandboxPayment, SandboxPaymentStatus
from yaji.payments.providers.base import Notification, ProviderPayment, ProviderPaymentState

if TYPE_CHECKING:
    from yaji.core.models import OutboxEvent
    from yaji.payments.models import PaymentIntent

logger = logging.getLogger(__name__)

PROVIDER_NAME = "sandbox"
TOPIC_SANDBOX_NOTIFY = "payments.sandbox_notify"
SUBSCRIBER_NAME = "payments.sandbox_sender"
HEADER_TIMESTAMP = "Yaji-Sandbox-Timestamp"
HEADER_NONCE = "Yaji-Sandbox-Nonce"
HEADER_SIGNATURE = "Yaji-Sandbox-Signature"
TOLERANCE_SECONDS = 300
PAYMENT_TTL = timedelta(minutes=30)


def _secret() -> bytes:
    return str(settings.YAJI_SANDBOX_PAY_SECRET).encode()


def sandbox_signature(*, timestamp: str, nonce: str, body: bytes) -> str:
    message = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body
    return hmac.new(_secret(), message, hashlib.sha256).hexdigest()


def sandbox_sign(
    body: bytes, *, timestamp: int | None = None, nonce: str | None = None
) -> dict[str, str]:
    """The headers a sandbox notification carries for ``body`` (signed now unless told)."""
    ts = str(int(clock.now().timestamp()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(16)
    return {
        HEADER_TIMESTAMP: ts,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: sandbox_signature(timestamp=ts, nonce=nonce, body=body),
    }


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return str(value)
    return ""


def sandbox_verify_signed(headers: Mapping[str, str], body: bytes) -> None:
    """Authenticate a sandbox-signed body (signature, then timestamp), or raise
    ``InvalidSignature`` / ``StaleNotification``. Shared by payment and payout notifications."""
    timestamp = _header(headers, HEADER_TIMESTAMP)
    nonce = _header(headers, HEADER_NONCE)
    signature = _header(headers, HEADER_SIGNATURE)
    if not (timestamp and nonce and signature):
        raise InvalidSignature(extra={"reason": "missing signature headers"})
    expected = sandbox_signature(timestamp=timestamp, nonce=nonce, body=body)
    if not hmac.compare_digest(expected, signature.lower()):
        raise InvalidSignature()
    # Checked after the signature: an unauthenticated timestamp is not worth an answer.
    try:
        sent = int(timestamp)
    except ValueError:
        raise InvalidSignature(extra={"reason": "timestamp is not an integer"}) from None
    if abs(clock.now().timestamp() - sent) > TOLERANCE_SECONDS:
        raise StaleNotification(extra={"tolerance_seconds": TOLERANCE_SECONDS})


class SandboxProvider:
    name = PROVIDER_NAME

    def create_payment(self, intent: PaymentIntent, *, return_url: str = "") -> ProviderPayment:
        reference = "sbx_" + secrets.token_hex(12)
        SandboxPayment.objects.create(
            reference=reference,
            amount_fen=intent.amount_fen,
            currency=intent.currency,
            description=str(intent.get_purpose_display()),
            return_url=return_url[:500],
            expires_at=clock.now() + PAYMENT_TTL,
        )
        url = reverse("payments:sandbox_pay", args=[reference])
        return ProviderPayment(reference=reference, redirect_url=url, qr_payload=url)

    def verify_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        sandbox_verify_signed(headers, body)
        try:
            data = json.loads(body)
            status = {"payment.succeeded": "succeeded", "payment.failed": "failed"}[data["type"]]
            amount = Money(data["amount_fen"], data["currency"])
            return Notification(
                event_id=str(data["id"])[:100],
                reference=str(data["reference"])[:100],
                status=status,  # type: ignore[arg-type]  # narrowed by the table above
                amount=amount,
            )
        except (ValueError, KeyError, TypeError, ApplicationError) as exc:
            raise MalformedNotification() from exc

    def query_payment(self, reference: str) -> ProviderPaymentState:
        payment = SandboxPayment.objects.filter(reference=reference).first()
        if payment is None:
            return ProviderPaymentState(reference=reference, status="unknown", amount=None)
        status = {
            SandboxPaymentStatus.PENDING: "pending",
            SandboxPaymentStatus.PAID: "succeeded",
            SandboxPaymentStatus.FAILED: "failed",
        }[SandboxPaymentStatus(payment.status)]
        return ProviderPaymentState(
            reference=reference,
            status=status,  # type: ignore[arg-type]  # values of the table above
            amount=Money(payment.amount_fen, payment.currency),
        )


# --- the payer's side: the hosted pay page -----------------------------------------------------


def sandbox_payment_get(*, reference: str) -> SandboxPayment | None:
    return SandboxPayment.objects.filter(reference=reference).first()


def sandbox_notification_body(*, payment: SandboxPayment, paid: bool) -> str:
    return json.dumps(
        {
            "id": "evt_" + secrets.token_hex(12),
            "type": "payment.succeeded" if paid else "payment.failed",
            "reference": payment.reference,
            "amount_fen": payment.amount_fen,
            "currency": payment.currency,
            "created_at": clock.now().isoformat(),
        },
        separators=(",", ":"),
    )


@transaction.atomic(durable=True)
def sandbox_payer_decide(*, reference: str, paid: bool) -> SandboxPayment:
    """The payer pressed Pay (``paid=True``) or Fail on the pay page; queue the notification."""
    now = clock.now()
    decided = SandboxPayment.objects.filter(
        reference=reference, status=SandboxPaymentStatus.PENDING, expires_at__gt=now
    ).update(
        status=SandboxPaymentStatus.PAID if paid else SandboxPaymentStatus.FAILED, updated_at=now
    )
    if decided != 1:
        raise SandboxPaymentClosed(extra={"reference": reference[:100]})
    payment = SandboxPayment.objects.get(reference=reference)
    body = sandbox_notification_body(payment=payment, paid=paid)
    copies = 2 if random.random() < float(settings.YAJI_SANDBOX_PAY_DUPLICATE_RATE) else 1
    for _copy in range(copies):
        outbox_publish(topic=TOPIC_SANDBOX_NOTIFY, payload={"body": body}, key=reference)
    return payment


# --- the provider's sender: delivers notifications through the outbox --------------------------


def sandbox_notify_deliver(event: OutboxEvent) -> Any:
    """Outbox handler: sign the notification now and deliver it to the platform's receiver."""
    from yaji.payments.services import payment_notification_receive

    body = str(event.payload["body"]).encode()
    try:
        return payment_notification_receive(
            provider=PROVIDER_NAME, headers=sandbox_sign(body), body=body
        )
    except ApplicationError as exc:
        # The platform answered 4xx: a real provider would log it on its side; retrying a
        # rejected notification cannot change the answer, so it is not retried.
        logger.warning(
            "sandbox notification rejected",
            extra={"event_id": str(event.id), "code": exc.code},
        )
        return None


def sandbox_subscribers_register() -> None:
    outbox_subscribe(
        topic=TOPIC_SANDBOX_NOTIFY, name=SUBSCRIBER_NAME, handler=sandbox_notify_deliver
    )
