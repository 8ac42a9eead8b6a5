"""Writes of the payments app: creating intents and settling them from provider notifications.

Settling is exactly-once under duplicated, concurrent and out-of-order notifications:

1. the notification row is inserted first, under ``UNIQUE(provider, event_id)``: a duplicate
   (sequential or concurrent — the second insert waits on the index until the first commits)
   stops there with outcome ``duplicate``;
2. the intent row is locked and moves only from an open status (``requires_payment`` /
   ``processing``) to a final one, by a conditional update: a failure after a success, or a
   second success under another event id, cannot flip or repeat it;
3. the ledger posting has the unique reference ``payment:<intent id>`` as a last line.

All three, plus the ``payments.intent_succeeded`` outbox event, commit in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse

from yaji.accounts.models import User
from yaji.core import clock
from yaji.core.errors import ApplicationError, InvalidAmount
from yaji.core.money import Money
from yaji.core.outbox import outbox_publish
from yaji.ledger.models import AccountKind
from yaji.ledger.services import Posting, ledger_post, system_account, wallet_account_for_user
from yaji.payments.errors import AmountMismatch, AmountOutOfRange, InvalidSignature
from yaji.payments.models import (
    OPEN_STATUSES,
    IntentPurpose,
    IntentStatus,
    PaymentIntent,
    ProviderNotification,
)
from yaji.payments.providers import provider_get
from yaji.payments.providers.base import Notification

logger = logging.getLogger(__name__)

TOPIC_INTENT_SUCCEEDED = "payments.intent_succeeded"
LEDGER_KIND_TOPUP = "wallet_topup"
DEFAULT_PROVIDER = "sandbox"
TOPUP_MIN_FEN = 1
TOPUP_MAX_FEN = 5_000_000  # 50,000 yuan
INTENT_TTL = timedelta(minutes=30)
_HEADERS_KEPT = 40


@dataclass(frozen=True, slots=True)
class NotificationResult:
    """What processing a notification did: ``succeeded``, ``failed``, ``duplicate``,
    ``already_succeeded``, ``ignored_<status>``, ``late_success``, ``unknown_reference``."""

    outcome: str
    intent_id: str | None = None


def ledger_reference_for(intent: PaymentIntent) -> str:
    return f"payment:{intent.id}"


# --- creating ---------------------------------------------------------------------------------


def _topup_amount(amount_fen: object, currency: str) -> Money:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise InvalidAmount(extra={"reason": "amount_fen must be a positive integer"})
    if not TOPUP_MIN_FEN <= amount_fen <= TOPUP_MAX_FEN:
        raise AmountOutOfRange(extra={"min_fen": TOPUP_MIN_FEN, "max_fen": TOPUP_MAX_FEN})
    return Money(amount_fen, currency)


def wallet_topup_create(
    *,
    user: User,
    amount_fen: int,
    currency: str = "CNY",
    provider: str = DEFAULT_PROVIDER,
) -> PaymentIntent:
    """An intent to top up ``user``'s wallet, registered with the provider; nothing moves yet.

    The provider call happens outside any transaction (a real adapter goes over the network):
    the intent commits first, then gets the provider's reference and pay URL.
    """
    amount = _topup_amount(amount_fen, currency)
    adapter = provider_get(provider)
    intent = PaymentIntent.objects.create(
        payer=user,
        amount_fen=amount.amount,
        currency=amount.currency,
        purpose=IntentPurpose.WALLET_TOPUP,
        provider=provider,
        expires_at=clock.now() + INTENT_TTL,
    )
    return_url = reverse("payments:wallet") + f"?intent={intent.id}"
    payment = adapter.create_payment(intent, return_url=return_url)
    intent.provider_reference = payment.reference
    intent.pay_url = payment.redirect_url
    intent.save(update_fields=["provider_reference", "pay_url", "updated_at"])
    return intent


# --- settling ---------------------------------------------------------------------------------


def _safe_headers(headers: Mapping[str, str]) -> dict[str, str]:
    drop = {"authorization", "cookie", "http_authorization", "http_cookie"}
    kept = {str(k): str(v)[:500] for k, v in headers.items() if str(k).lower() not in drop}
    return dict(list(kept.items())[:_HEADERS_KEPT])


def payment_notification_receive(
    *, provider: str, headers: Mapping[str, str], body: bytes
) -> NotificationResult:
    """Authenticate a provider notification and apply it exactly once.

    Called by the HTTP endpoint and by the sandbox's outbox sender with the same signed bytes.
    Raises ``InvalidSignature`` / ``StaleNotification`` / ``MalformedNotification`` (the
    notification is kept for audit, nothing else changes) and ``AmountMismatch`` (the intent is
    flagged, no money moves). A duplicate returns outcome ``duplicate`` without effect.
    """
    adapter = provider_get(provider)
    text = body.decode("utf-8", errors="replace")
    try:
        notification = adapter.verify_notification(headers, body)
    except ApplicationError as exc:
        ProviderNotification.objects.create(
            provider=provider,
            event_id=None,
            headers=_safe_headers(headers),
            body=text,
            signature_valid=not isinstance(exc, InvalidSignature),
            processed=False,
            outcome=exc.code,
        )
        raise
    result = _notification_apply(
        provider=provider, notification=notification, headers=_safe_headers(headers), body=text
    )
    if result.outcome == "amount_mismatch":
        raise AmountMismatch(extra={"intent_id": result.intent_id})
    return result


@transaction.atomic(durable=True)
def _notification_apply(
    *, provider: str, notification: Notification, headers: dict[str, str], body: str
) -> NotificationResult:
    try:
        with transaction.atomic():  # savepoint: a duplicate leaves the outer transaction usable
            record = ProviderNotification.objects.create(
                provider=provider,
                event_id=notification.event_id,
                headers=headers,
                body=body,
                signature_valid=True,
            )
    except IntegrityError:
        return NotificationResult(outcome="duplicate")

    intent = (
        PaymentIntent.objects.select_for_update()
        .filter(provider=provider, provider_reference=notification.reference)
        .first()
    )
    if intent is None:
        logger.warning(
            "notification for an unknown payment",
            extra={"provider": provider, "event_id": notification.event_id},
        )
        outcome = "unknown_reference"
    elif (notification.amount.amount, notification.amount.currency) != (
        intent.amount_fen,
        intent.currency,
    ):
        _flag(intent, "amount_mismatch")
        outcome = "amount_mismatch"
    elif notification.status == "succeeded":
        outcome = _intent_succeed(intent)
    else:
        outcome = _intent_fail(intent)

    record.intent = intent
    record.processed = True
    record.outcome = outcome
    record.save(update_fields=["intent", "processed", "outcome", "updated_at"])
    return NotificationResult(outcome=outcome, intent_id=str(intent.id) if intent else None)


def _flag(intent: PaymentIntent, flag: str) -> None:
    PaymentIntent.objects.filter(pk=intent.pk).update(flag=flag, updated_at=clock.now())
    logger.error("payment intent flagged", extra={"intent_id": str(intent.id), "flag": flag})


def _intent_succeed(intent: PaymentIntent) -> str:
    if intent.status == IntentStatus.SUCCEEDED:
        return "already_succeeded"
    now = clock.now()
    moved = PaymentIntent.objects.filter(pk=intent.pk, status__in=OPEN_STATUSES).update(
        status=IntentStatus.SUCCEEDED, succeeded_at=now, updated_at=now
    )
    if moved != 1:
        # Failed, cancelled or expired before the money arrived: the provider holds money we
        # did not expect. An operator decides (refund or credit); nothing moves automatically.
        _flag(intent, "late_success")
        return "late_success"
    amount = Money(intent.amount_fen, intent.currency)
    if intent.purpose == IntentPurpose.WALLET_TOPUP:
        ledger_post(
            kind=LEDGER_KIND_TOPUP,
            postings=[
                Posting(
                    system_account(kind=AccountKind.PROVIDER_CLEARING, currency=amount.currency),
                    -amount,
                ),
                Posting(
                    wallet_account_for_user(user=intent.payer, currency=amount.currency), amount
                ),
            ],
            reference=ledger_reference_for(intent),
            description="钱包充值",
            metadata={"intent_id": str(intent.id), "provider": intent.provider},
        )
    outbox_publish(
        topic=TOPIC_INTENT_SUCCEEDED,
        payload={
            "intent_id": str(intent.id),
            "payer_id": intent.payer_id,
            "purpose": intent.purpose,
            "amount_fen": intent.amount_fen,
            "currency": intent.currency,
        },
        key=str(intent.id),
    )
    return "succeeded"


def _intent_fail(intent: PaymentIntent) -> str:
    moved = PaymentIntent.objects.filter(pk=intent.pk, status__in=OPEN_STATUSES).update(
        status=IntentStatus.FAILED, updated_at=clock.now()
    )
    return "failed" if moved == 1 else f"ignored_{intent.status}"
