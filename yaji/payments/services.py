"""Writes of the payments app: creating intents and settling them from provider notifications.

Settling is exactly-once under duplicated, concurrent and out-of-order notifications, through
the receiver shared with refunds and payouts (:mod:`yaji.payments.notifications`): the
notification row is inserted under ``UNIQUE(provider, event_id)`` (a duplicate stops there),
the intent row is locked and moves only from an open status (``requires_payment`` /
``processing``) to a final one by a conditional update, and the ledger posting has the unique
reference ``payment:<intent id>`` as a last line. All three, plus the
``payments.intent_succeeded`` outbox event, commit in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from django.db import transaction
from django.urls import reverse

from yaji.accounts.models import User
from yaji.core import clock
from yaji.core.errors import InvalidAmount
from yaji.core.money import Money
from yaji.core.outbox import outbox_publish
from yaji.ledger.models import AccountKind, LedgerAccount
from yaji.ledger.services import (
    Posting,
    account_for,
    ledger_post,
    system_account,
    wallet_account_for_user,
)
from yaji.payments.errors import (
    AmountOutOfRange,
    SubjectNotPayable,
    WalletPartOutOfRange,
)
from yaji.payments.models import (
    OPEN_STATUSES,
    IntentPurpose,
    IntentStatus,
    PaymentIntent,
    ProviderNotification,
)
from yaji.payments.notifications import (
    NotificationResult,
    apply_to_row,
    notification_receive,
    row_flag,
    status_settle,
)
from yaji.payments.providers import default_provider_name, provider_get
from yaji.payments.providers.base import Notification

logger = logging.getLogger(__name__)

TOPIC_INTENT_SUCCEEDED = "payments.intent_succeeded"
LEDGER_KIND_TOPUP = "wallet_topup"
LEDGER_KIND_CHECKOUT = "checkout_payment"
LEDGER_KIND_CHECKOUT_WALLET = "checkout_wallet_payment"
LEDGER_KIND_CHECKOUT_WALLET_RETURN = "checkout_wallet_return"
TOPUP_MIN_FEN = 1
TOPUP_MAX_FEN = 5_000_000  # 50,000 yuan
CHECKOUT_MAX_FEN = 10_000_000  # 100,000 yuan per checkout
INTENT_TTL = timedelta(minutes=30)
EXPIRY_GRACE = timedelta(minutes=10)


def ledger_reference_for(intent: PaymentIntent) -> str:
    return f"payment:{intent.id}"


def intent_escrow_account(intent: PaymentIntent) -> LedgerAccount:
    """Where a checkout's money waits for the trade app: escrow, owner ``payment:<intent>``."""
    return account_for(
        kind=AccountKind.ESCROW, owner_ref=f"payment:{intent.id}", currency=intent.currency
    )


# --- subjects: what a checkout intent pays for -------------------------------------------------

# ``on_succeeded(intent)`` runs inside the transaction that records the intent's success, with
# the intent's whole amount in its escrow. It returns True when it took the money (moved it out
# of the intent's escrow), False when its subject can no longer be paid (cancelled, expired,
# already paid): the intent is then refunded in full, in the same transaction (ADR 0026).
SubjectHandler = Callable[[PaymentIntent], bool]
_SUBJECT_HANDLERS: dict[str, SubjectHandler] = {}
REFUND_KEY_SUBJECT_CLOSED = "subject_closed"


def intent_subject_handler_register(*, kind: str, on_succeeded: SubjectHandler) -> None:
    """Called explicitly from an ``AppConfig.ready`` (no discovery)."""
    _SUBJECT_HANDLERS[kind] = on_succeeded


def intent_subject(*, kind: str, subject_id: object) -> str:
    return f"{kind}:{subject_id}"


def _subject_settle(intent: PaymentIntent) -> bool:
    """Hand a succeeded checkout intent's money to its subject; False if it was refused."""
    if not intent.subject:
        return True  # a bare checkout intent: its money waits in its escrow for a caller
    kind = intent.subject.rsplit(":", 1)[0]
    handler = _SUBJECT_HANDLERS.get(kind)
    if handler is None:
        logger.error("no handler for payment subject", extra={"subject": intent.subject})
        row_flag(intent, "unknown_subject")
        return True  # the money stays in the intent's escrow for an operator
    return handler(intent)


def _refund_subject_closed(intent: PaymentIntent) -> None:
    """Refund, in full, an intent that succeeded after its subject closed."""
    from yaji.payments.refunds import refund_hold_locked, refund_submit_on_commit

    intent.refresh_from_db()
    refund = refund_hold_locked(
        intent=intent,
        amount_fen=intent.amount_fen,
        reason="subject_closed",
        request_key=REFUND_KEY_SUBJECT_CLOSED,
    )
    refund_submit_on_commit(refund)
    logger.warning(
        "payment arrived for a closed subject: refunded",
        extra={"intent_id": str(intent.id), "subject": intent.subject},
    )


def intent_funds_account(intent: PaymentIntent) -> LedgerAccount:
    """The account a succeeded intent's money went to (and refunds come from)."""
    if intent.purpose == IntentPurpose.WALLET_TOPUP:
        return wallet_account_for_user(user=intent.payer, currency=intent.currency)
    return intent_escrow_account(intent)


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
    provider: str | None = None,
) -> PaymentIntent:
    """An intent to top up ``user``'s wallet, registered with the provider; nothing moves yet.

    The provider call happens outside any transaction (a real adapter goes over the network):
    the intent commits first, then gets the provider's reference and pay URL.
    """
    amount = _topup_amount(amount_fen, currency)
    provider = provider or default_provider_name()
    provider_get(provider)  # unknown or unconfigured provider → refused before any write
    intent = PaymentIntent.objects.create(
        payer=user,
        amount_fen=amount.amount,
        currency=amount.currency,
        purpose=IntentPurpose.WALLET_TOPUP,
        provider=provider,
        expires_at=clock.now() + INTENT_TTL,
    )
    _register_with_provider(intent)
    return intent


def _register_with_provider(intent: PaymentIntent, *, return_url: str = "") -> None:
    adapter = provider_get(intent.provider)
    return_url = return_url or reverse("payments:wallet") + f"?intent={intent.id}"
    payment = adapter.create_payment(intent, return_url=return_url)
    intent.provider_reference = payment.reference
    intent.pay_url = payment.redirect_url or reverse("payments:intent_pay", args=[intent.id])
    intent.qr_payload = payment.qr_payload
    intent.save(update_fields=["provider_reference", "pay_url", "qr_payload", "updated_at"])


def checkout_intent_create(
    *,
    payer: User,
    amount_fen: int,
    wallet_amount_fen: int = 0,
    currency: str = "CNY",
    provider: str | None = None,
    subject: str = "",
    expires_at: datetime | None = None,
    return_url: str = "",
) -> PaymentIntent:
    """An intent for a purchase, paid ``wallet_amount_fen`` from the wallet and the rest
    through ``provider``. The wallet part moves wallet → the intent's escrow at once (refused
    with ``insufficient_funds`` and nothing written if the wallet is short); with no provider
    part the intent has succeeded on return. The trade app settles the escrow later.

    ``subject`` (``<kind>:<id>``) names what is paid for: its registered handler takes the money
    on success, or refuses it and the intent is refunded (a wallet-only intent is then refused
    with ``subject_not_payable`` and nothing written). ``expires_at`` (default 30 minutes) is
    also told to the provider, so nobody can pay after the subject's own deadline.
    """
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise InvalidAmount(extra={"reason": "amount_fen must be a positive integer"})
    if amount_fen > CHECKOUT_MAX_FEN:
        raise AmountOutOfRange(extra={"min_fen": 1, "max_fen": CHECKOUT_MAX_FEN})
    amount = Money(amount_fen, currency)
    if (
        isinstance(wallet_amount_fen, bool)
        or not isinstance(wallet_amount_fen, int)
        or not 0 <= wallet_amount_fen <= amount_fen
    ):
        raise WalletPartOutOfRange(extra={"max_fen": amount_fen})
    provider = provider or default_provider_name()
    if wallet_amount_fen < amount_fen:
        provider_get(provider)  # unknown or unconfigured provider → refused before any write
    now = clock.now()
    expires_at = expires_at or now + INTENT_TTL
    if expires_at <= now:
        raise SubjectNotPayable(extra={"reason": "expired"})
    intent = _checkout_hold(
        payer=payer,
        amount=amount,
        wallet_amount_fen=wallet_amount_fen,
        provider=provider,
        subject=subject[:100],
        expires_at=expires_at,
    )
    if intent.provider_amount_fen > 0:
        try:
            _register_with_provider(intent, return_url=return_url)
        except Exception:
            # The provider never took the order: give the held wallet part back now.
            _intent_abandon(intent_id=intent.pk)
            raise
    return intent


@transaction.atomic(durable=True)
def _intent_abandon(*, intent_id: object) -> None:
    intent = PaymentIntent.objects.select_for_update().get(pk=intent_id)
    _intent_fail(intent)


def payment_intents_expire_due(*, now: datetime | None = None, batch: int = 500) -> int:
    """Expire open intents past ``expires_at`` (plus :data:`EXPIRY_GRACE` for notifications
    still on their way) and give back their held wallet parts. The providers were told the same
    expiry (WeChat Pay ``time_expire``, the sandbox's page), so nobody can pay them any more; a
    success arriving later anyway is flagged ``late_success`` for an operator. Safe to run
    concurrently (each intent moves under its row lock by a conditional update)."""
    cutoff = (now or clock.now()) - EXPIRY_GRACE
    done = 0
    for intent_id in PaymentIntent.objects.filter(
        status__in=OPEN_STATUSES, expires_at__lt=cutoff
    ).values_list("pk", flat=True)[:batch]:
        done += _intent_expire(intent_id=intent_id)
    return done


@transaction.atomic(durable=True)
def _intent_expire(*, intent_id: object) -> int:
    intent = PaymentIntent.objects.select_for_update().get(pk=intent_id)
    moved = PaymentIntent.objects.filter(pk=intent.pk, status__in=OPEN_STATUSES).update(
        status=IntentStatus.EXPIRED, updated_at=clock.now()
    )
    if moved != 1:
        return 0
    _wallet_part_return(intent)
    return 1


@transaction.atomic(durable=True)
def _checkout_hold(
    *,
    payer: User,
    amount: Money,
    wallet_amount_fen: int,
    provider: str,
    subject: str,
    expires_at: datetime,
) -> PaymentIntent:
    now = clock.now()
    intent = PaymentIntent.objects.create(
        payer=payer,
        amount_fen=amount.amount,
        wallet_amount_fen=wallet_amount_fen,
        currency=amount.currency,
        purpose=IntentPurpose.CHECKOUT,
        provider=provider,
        subject=subject,
        expires_at=expires_at,
    )
    if wallet_amount_fen:
        part = Money(wallet_amount_fen, amount.currency)
        ledger_post(
            kind=LEDGER_KIND_CHECKOUT_WALLET,
            postings=[
                Posting(wallet_account_for_user(user=payer, currency=part.currency), -part),
                Posting(intent_escrow_account(intent), part),
            ],
            reference=f"payment:{intent.id}:wallet",
            description="余额支付",
            metadata={"intent_id": str(intent.id)},
        )
    if wallet_amount_fen == amount.amount:
        PaymentIntent.objects.filter(pk=intent.pk).update(
            status=IntentStatus.SUCCEEDED, succeeded_at=now, updated_at=now
        )
        intent.refresh_from_db()
        if not _subject_settle(intent):
            # Paid wholly from the wallet, synchronously: refuse instead of refunding, and the
            # durable transaction rolls the hold back.
            raise SubjectNotPayable(extra={"subject": intent.subject})
        _publish_succeeded(intent)
    return intent


# --- settling ---------------------------------------------------------------------------------


def payment_notification_receive(
    *, provider: str, headers: Mapping[str, str], body: bytes
) -> NotificationResult:
    """Authenticate a provider notification and apply it exactly once
    (:mod:`yaji.payments.notifications`).

    Called by the HTTP endpoint and by the sandbox's outbox sender with the same signed bytes.
    Raises ``InvalidSignature`` / ``StaleNotification`` / ``MalformedNotification`` (the
    notification is kept for audit, nothing else changes) and ``AmountMismatch`` (the intent is
    flagged, no money moves). A duplicate returns outcome ``duplicate`` without effect.
    """
    adapter = provider_get(provider)

    def apply(record: ProviderNotification, notification: Notification) -> tuple[str, str | None]:
        intent = (
            PaymentIntent.objects.select_for_update()
            .filter(provider=provider, provider_reference=notification.reference)
            .first()
        )
        return apply_to_row(
            record,
            notification,
            provider=provider,
            row=intent,
            link="intent",
            amount_fen=lambda i: i.provider_amount_fen,
            on_success=lambda: _intent_succeed(intent),  # type: ignore[arg-type]  # not None: apply_to_row checked
            on_failure=lambda: _intent_fail(intent),  # type: ignore[arg-type]  # not None: apply_to_row checked
        )

    return notification_receive(
        provider=provider,
        headers=headers,
        body=body,
        verify=adapter.verify_notification,
        apply=apply,
        subject_key="intent_id",
    )


def payment_intent_cancel(*, intent_id: object) -> bool:
    """Cancel an open checkout intent whose subject no longer wants paying (a red packet its
    sender cancelled): its held wallet part goes back now. True if it was open. A provider
    payment that still arrives (the payer had the page open) is taken and refunded in full
    at once, like a payment for a closed subject — see :func:`_intent_succeed`. Its own
    transaction: call it after the subject's change committed (the notification path locks
    the intent before the subject, so a subject holding its lock must not wait for this one)."""
    with transaction.atomic(durable=True):
        intent = PaymentIntent.objects.select_for_update().filter(pk=intent_id).first()
        if intent is None or intent.purpose != IntentPurpose.CHECKOUT:
            return False
        moved = PaymentIntent.objects.filter(pk=intent.pk, status__in=OPEN_STATUSES).update(
            status=IntentStatus.CANCELLED, updated_at=clock.now()
        )
        if moved != 1:
            return False
        _wallet_part_return(intent)
    return True


def _intent_succeed_after_cancel(intent: PaymentIntent) -> str:
    """The provider's money arrived for a checkout we cancelled: it is the payer's, so it goes
    back in full, automatically (its wallet part went back at the cancel). The intent records
    what happened — succeeded, flagged ``late_success`` for operators — and the provider part
    enters its escrow and leaves again as a refund."""
    now = clock.now()
    PaymentIntent.objects.filter(pk=intent.pk, status=IntentStatus.CANCELLED).update(
        status=IntentStatus.SUCCEEDED, succeeded_at=now, updated_at=now
    )
    row_flag(intent, "late_success")
    part = Money(intent.provider_amount_fen, intent.currency)
    ledger_post(
        kind=LEDGER_KIND_CHECKOUT,
        postings=[
            Posting(
                system_account(kind=AccountKind.PROVIDER_CLEARING, currency=part.currency), -part
            ),
            Posting(intent_escrow_account(intent), part),
        ],
        reference=ledger_reference_for(intent),
        description="在线支付",
        metadata={"intent_id": str(intent.id), "provider": intent.provider, "cancelled": True},
    )
    intent.refresh_from_db()
    _publish_succeeded(intent)
    from yaji.payments.refunds import refund_hold_locked, refund_submit_on_commit

    refund = refund_hold_locked(
        intent=intent,
        amount_fen=intent.provider_amount_fen,
        reason="subject_closed",
        request_key=REFUND_KEY_SUBJECT_CLOSED,
    )
    refund_submit_on_commit(refund)
    logger.warning(
        "payment arrived for a cancelled checkout: refunded",
        extra={"intent_id": str(intent.id), "subject": intent.subject},
    )
    return "succeeded_refunded"


def _intent_succeed(intent: PaymentIntent) -> str:
    if (
        intent.status == IntentStatus.CANCELLED
        and intent.purpose == IntentPurpose.CHECKOUT
        and intent.provider_amount_fen > 0
    ):
        return _intent_succeed_after_cancel(intent)
    # Failed, cancelled or expired before the money arrived: the provider holds money we did
    # not expect. An operator decides (refund or credit); nothing moves automatically.
    stopped = status_settle(
        intent,
        open_statuses=OPEN_STATUSES,
        final=IntentStatus.SUCCEEDED,
        already="already_succeeded",
        contradicted="late_success",
        flag="late_success",
        succeeded_at=clock.now(),
    )
    if stopped:
        return stopped
    amount = Money(intent.amount_fen, intent.currency)
    if intent.purpose == IntentPurpose.CHECKOUT:
        part = Money(intent.provider_amount_fen, intent.currency)
        ledger_post(
            kind=LEDGER_KIND_CHECKOUT,
            postings=[
                Posting(
                    system_account(kind=AccountKind.PROVIDER_CLEARING, currency=part.currency),
                    -part,
                ),
                Posting(intent_escrow_account(intent), part),
            ],
            reference=ledger_reference_for(intent),
            description="在线支付",
            metadata={"intent_id": str(intent.id), "provider": intent.provider},
        )
        intent.refresh_from_db()
        if not _subject_settle(intent):
            _publish_succeeded(intent)
            _refund_subject_closed(intent)
            return "succeeded_refunded"
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
    _publish_succeeded(intent)
    return "succeeded"


def _publish_succeeded(intent: PaymentIntent) -> None:
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


def _intent_fail(intent: PaymentIntent) -> str:
    stopped = status_settle(
        intent,
        open_statuses=OPEN_STATUSES,
        final=IntentStatus.FAILED,
        already=f"ignored_{intent.status}",
        contradicted=f"ignored_{intent.status}",
    )
    if stopped:
        return stopped
    _wallet_part_return(intent)
    return "failed"


def _wallet_part_return(intent: PaymentIntent) -> None:
    if intent.wallet_amount_fen:
        # The provider part failed or expired: the wallet part held at checkout goes back.
        part = Money(intent.wallet_amount_fen, intent.currency)
        ledger_post(
            kind=LEDGER_KIND_CHECKOUT_WALLET_RETURN,
            postings=[
                Posting(intent_escrow_account(intent), -part),
                Posting(wallet_account_for_user(user=intent.payer, currency=part.currency), part),
            ],
            reference=f"payment:{intent.id}:wallet_return",
            description="支付失败退回余额",
            metadata={"intent_id": str(intent.id)},
        )
