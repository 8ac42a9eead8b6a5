"""The sandbox payout provider: pays withdrawals to bank cards, inside the platform.

- ``create_payout`` records a :class:`SandboxPayout` (the provider's own record), idempotent on
  the merchant's ``out_reference`` (our withdrawal id): submitting twice pays once.
- The outcome is decided at once from the card number (test cards below) and reported
  **asynchronously**: an outbox event ``payments.sandbox_payout_notify`` carries the callback
  body; the relay delivers it (at least once) to :func:`sandbox_payout_notify_deliver`, which
  signs it afresh with the very scheme of the sandbox payment notifications
  (:func:`yaji.payments.providers.sandbox.sandbox_sign`, same secret, headers and tolerance)
  and hands it to the function behind ``POST /api/v1/payments/payout-notify/sandbox_payout``.
- With probability ``settings.YAJI_SANDBOX_PAY_DUPLICATE_RATE`` the callback is sent twice
  (same event id), as real providers do.

Test cards (any Luhn-valid number; the last four digits decide):

=============  ==========================================
ends in        outcome
=============  ==========================================
``0002``       fails with ``account_frozen``
``0036``       fails with ``card_closed``
anything else  succeeds
=============  ==========================================

Callback body: ``{"id", "type": "payout.succeeded" | "payout.failed", "reference",
"out_reference", "amount_fen", "currency", "failure_reason", "created_at"}``.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction

from yaji.core import clock
from yaji.core.errors import ApplicationError
from yaji.core.money import Money
from yaji.core.outbox import outbox_publish, outbox_subscribe
from yaji.payments.errors import MalformedNotification
from yaji.payments.models import SandboxPayout, SandboxPayoutStatus
from yaji.payments.providers.base import PayoutNotification, PayoutRequest, ProviderPayout
from yaji.payments.providers.sandbox import sandbox_sign, sandbox_verify_signed

if TYPE_CHECKING:
    from yaji.core.models import OutboxEvent

logger = logging.getLogger(__name__)

PAYOUT_PROVIDER_NAME = "sandbox_payout"
TOPIC_SANDBOX_PAYOUT_NOTIFY = "payments.sandbox_payout_notify"
SUBSCRIBER_NAME = "payments.sandbox_payout_sender"
FAILING_CARD_SUFFIXES: dict[str, str] = {"0002": "account_frozen", "0036": "card_closed"}


def sandbox_payout_body(*, payout: SandboxPayout) -> str:
    paid = payout.status == SandboxPayoutStatus.PAID
    return json.dumps(
        {
            "id": "pevt_" + secrets.token_hex(12),
            "type": "payout.succeeded" if paid else "payout.failed",
            "reference": payout.reference,
            "out_reference": payout.out_reference,
            "amount_fen": payout.amount_fen,
            "currency": payout.currency,
            "failure_reason": payout.failure_reason,
            "created_at": clock.now().isoformat(),
        },
        separators=(",", ":"),
    )


class SandboxPayoutProvider:
    name = PAYOUT_PROVIDER_NAME

    @transaction.atomic(durable=True)
    def create_payout(self, request: PayoutRequest) -> ProviderPayout:
        existing = SandboxPayout.objects.filter(out_reference=request.out_reference).first()
        if existing is not None:
            return ProviderPayout(reference=existing.reference)
        last4 = request.card_number[-4:]
        failure = FAILING_CARD_SUFFIXES.get(last4, "")
        payout = SandboxPayout.objects.create(
            reference="sbp_" + secrets.token_hex(12),
            out_reference=request.out_reference[:100],
            amount_fen=request.amount.amount,
            currency=request.amount.currency,
            card_last4=last4,
            status=SandboxPayoutStatus.FAILED if failure else SandboxPayoutStatus.PAID,
            failure_reason=failure,
        )
        body = sandbox_payout_body(payout=payout)
        copies = 2 if random.random() < float(settings.YAJI_SANDBOX_PAY_DUPLICATE_RATE) else 1
        for _copy in range(copies):
            outbox_publish(
                topic=TOPIC_SANDBOX_PAYOUT_NOTIFY, payload={"body": body}, key=payout.reference
            )
        return ProviderPayout(reference=payout.reference)

    def verify_payout_notification(
        self, headers: Mapping[str, str], body: bytes
    ) -> PayoutNotification:
        sandbox_verify_signed(headers, body)
        try:
            data = json.loads(body)
            status = {"payout.succeeded": "succeeded", "payout.failed": "failed"}[data["type"]]
            return PayoutNotification(
                event_id=str(data["id"])[:100],
                reference=str(data["reference"])[:100],
                out_reference=str(data["out_reference"])[:100],
                status=status,  # type: ignore[arg-type]  # narrowed by the table above
                amount=Money(data["amount_fen"], data["currency"]),
                failure_reason=str(data.get("failure_reason") or "")[:64],
            )
        except (ValueError, KeyError, TypeError, AttributeError, ApplicationError) as exc:
            raise MalformedNotification() from exc


def sandbox_payout_notify_deliver(event: OutboxEvent) -> Any:
    """Outbox handler: sign the payout callback now and deliver it to the platform."""
    from yaji.payments.withdrawals import payout_notification_receive

    body = str(event.payload["body"]).encode()
    try:
        return payout_notification_receive(
            provider=PAYOUT_PROVIDER_NAME, headers=sandbox_sign(body), body=body
        )
    except ApplicationError as exc:
        # A 4xx answer cannot change on retry (see the payment sender).
        logger.warning(
            "sandbox payout callback rejected",
            extra={"event_id": str(event.id), "code": exc.code},
        )
        return None


def sandbox_payout_subscribers_register() -> None:
    outbox_subscribe(
        topic=TOPIC_SANDBOX_PAYOUT_NOTIFY,
        name=SUBSCRIBER_NAME,
        handler=sandbox_payout_notify_deliver,
    )
