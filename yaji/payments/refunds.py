"""Refunds of succeeded payment intents, full or partial, back the way the money came.

A refund of ``amount`` is split once, when it is created: first the part paid through the
provider that is not refunded yet (``provider_amount_fen``), then the wallet part
(``wallet_amount_fen``) — the provider part first because provider refunds have deadlines
(WeChat Pay: one year) while a wallet refund can always be made.

Money path (integer fen, all through :func:`yaji.ledger.services.ledger_post`); the *source* is
where the intent's money went — the payer's wallet for a top-up, the intent's escrow
(``escrow`` owner ``payment:<intent>``) for a checkout:

1. ``refund_create`` — one durable transaction locks the intent, checks
   ``refunded_fen + amount <= amount_fen`` (the CHECK constraint ``payments_intent_refunds_le_paid``
   backs it), creates the refund and raises ``refunded_fen``.
   - wallet part only: source → wallet at once (``refund:<id>``), ``succeeded``;
   - with a provider part: source → refunds-in-flight escrow (``refund:<id>:hold``),
     ``pending``; after commit, outside any transaction, the provider is asked to refund
     (idempotent on the refund id; retried by :func:`refunds_submit_pending` when it could not
     be reached; a refusal fails the refund).
2. The provider's signed refund notification (``refund_notification_receive``) settles it
   exactly once: success → in-flight → wallet (wallet part) + provider clearing (provider
   part), ``refund:<id>``; failure → in-flight → source (``refund:<id>:return``), ``failed``,
   and ``refunded_fen`` goes down again (the amount is refundable again).

Exactly once under duplicated, concurrent and out-of-order notifications: the notification row
is inserted under ``UNIQUE(provider, event_id)``, the refund row is locked and leaves
``pending`` only by a conditional update, every posting has a unique reference. The first final
notification wins; a contradicting later one flags the refund for an operator.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Mapping

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce

from yaji.accounts.models import User
from yaji.core import clock
from yaji.core.errors import ApplicationError, InvalidAmount
from yaji.core.money import Money
from yaji.ledger.models import AccountKind, LedgerAccount, LedgerEntry
from yaji.ledger.reconciliation import MAX_REPORTED, Discrepancy, Progress
from yaji.ledger.services import (
    Posting,
    account_for,
    ledger_post,
    system_account,
    wallet_account_for_user,
)
from yaji.payments.errors import (
    AmountMismatch,
    IntentNotRefundable,
    InvalidSignature,
    ProviderRefundRefused,
    RefundExceedsPaid,
    RefundKeyReused,
    RefundNotAllowed,
)
from yaji.payments.models import (
    IntentPurpose,
    IntentStatus,
    PaymentIntent,
    ProviderNotification,
    Refund,
    RefundStatus,
)
from yaji.payments.providers import provider_get
from yaji.payments.providers.base import RefundNotification, RefundRequest
from yaji.payments.selectors import payment_intent_get_for_user
from yaji.payments.services import NotificationResult, _safe_headers, intent_funds_account

logger = logging.getLogger(__name__)

LEDGER_KIND_REFUND = "payment_refund"
LEDGER_KIND_REFUND_HOLD = "payment_refund_hold"
LEDGER_KIND_REFUND_RETURN = "payment_refund_return"
IN_FLIGHT_OWNER_REF = "payments:refunds_in_flight"
TOPIC_REFUND_SUCCEEDED = "payments.refund_succeeded"
REASON_MAX = 80


def refunds_in_flight_account(*, currency: str) -> LedgerAccount:
    """Escrow for refunds the provider has not confirmed yet (one per currency)."""
    return account_for(kind=AccountKind.ESCROW, owner_ref=IN_FLIGHT_OWNER_REF, currency=currency)


# --- creating ---------------------------------------------------------------------------------


def _refund_amount(amount_fen: object) -> int:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise InvalidAmount(extra={"reason": "amount_fen must be a positive integer"})
    return amount_fen


def payer_refund_request(
    *, user: User, intent_id: object, amount_fen: int, reason: str = "", request_key: str = ""
) -> Refund:
    """The payer refunds (part of) one of their own wallet top-ups (unspent money back to the
    card). A checkout is refunded through after-sales, never directly by the buyer."""
    intent = payment_intent_get_for_user(intent_id=str(intent_id), user=user)  # others' → 404
    if intent.purpose != IntentPurpose.WALLET_TOPUP:
        raise RefundNotAllowed()
    return refund_create(
        intent=intent, amount_fen=amount_fen, reason=reason, request_key=request_key
    )


def refund_create(
    *, intent: PaymentIntent, amount_fen: int, reason: str = "", request_key: str = ""
) -> Refund:
    """Refund ``amount_fen`` of a succeeded intent (see the module docstring).

    ``request_key`` (the caller's Idempotency-Key) makes a retry return the first refund; the
    same key with another amount is ``idempotency_key_reused``. Raises ``invalid_amount``,
    ``intent_not_refundable``, ``refund_exceeds_paid`` and ``insufficient_funds`` (a top-up
    already spent) with nothing written.
    """
    amount = _refund_amount(amount_fen)
    refund = _refund_hold(
        intent_id=intent.pk,
        amount_fen=amount,
        reason=(reason or "").strip()[:REASON_MAX],
        request_key=(request_key or "")[:255],
    )
    if refund.status == RefundStatus.PENDING and not refund.provider_reference:
        refund_submit(refund=refund)
        refund.refresh_from_db()
    return refund


@transaction.atomic(durable=True)
def _refund_hold(*, intent_id: uuid.UUID, amount_fen: int, reason: str, request_key: str) -> Refund:
    intent = PaymentIntent.objects.select_for_update().select_related("payer").get(pk=intent_id)
    return refund_hold_locked(
        intent=intent, amount_fen=amount_fen, reason=reason, request_key=request_key
    )


def refund_submit_on_commit(refund: Refund) -> None:
    """Submit a refund made inside a larger transaction once it commits (the provider call
    must not run under its locks); :func:`refunds_submit_pending` retries it if this is lost."""
    if refund.status == RefundStatus.PENDING and not refund.provider_reference:
        transaction.on_commit(lambda: refund_submit(refund=Refund.objects.get(pk=refund.pk)))


def refund_hold_locked(
    *, intent: PaymentIntent, amount_fen: int, reason: str, request_key: str
) -> Refund:
    """The body of a refund under the caller's lock on ``intent`` (inside its transaction)."""
    if request_key:
        existing = Refund.objects.filter(intent=intent, request_key=request_key).first()
        if existing is not None:
            return _replayed(existing, amount_fen=amount_fen)
    if intent.status != IntentStatus.SUCCEEDED:
        raise IntentNotRefundable(extra={"status": intent.status})
    available = intent.amount_fen - intent.refunded_fen
    if amount_fen > available:
        raise RefundExceedsPaid(extra={"refundable_fen": available, "requested_fen": amount_fen})
    provider_refunded = (
        Refund.objects.filter(intent=intent)
        .exclude(status=RefundStatus.FAILED)
        .aggregate(total=Coalesce(Sum("provider_amount_fen"), 0))["total"]
    )
    provider_part = min(amount_fen, intent.provider_amount_fen - provider_refunded)
    wallet_part = amount_fen - provider_part
    try:
        with transaction.atomic():
            refund = Refund.objects.create(
                intent=intent,
                amount_fen=amount_fen,
                wallet_amount_fen=wallet_part,
                provider_amount_fen=provider_part,
                currency=intent.currency,
                reason=reason,
                provider=intent.provider,
                request_key=request_key,
            )
    except IntegrityError:  # the same key committed concurrently (we hold the intent lock,
        # so this only happens if the key was used with a different transaction path)
        existing = Refund.objects.filter(intent=intent, request_key=request_key).first()
        if existing is None:
            raise
        return _replayed(existing, amount_fen=amount_fen)
    # The CHECK (refunded_fen <= amount_fen) is the last line should the lock ever be bypassed.
    PaymentIntent.objects.filter(pk=intent.pk).update(
        refunded_fen=F("refunded_fen") + amount_fen, updated_at=clock.now()
    )
    amount = Money(amount_fen, intent.currency)
    source = intent_funds_account(intent)
    metadata = {"refund_id": str(refund.id), "intent_id": str(intent.id)}
    if provider_part == 0:
        ledger_post(
            kind=LEDGER_KIND_REFUND,
            postings=[
                Posting(source, -amount),
                Posting(
                    wallet_account_for_user(user=intent.payer, currency=amount.currency), amount
                ),
            ],
            reference=f"refund:{refund.id}",
            description="退款",
            metadata=metadata,
        )
        now = clock.now()
        Refund.objects.filter(pk=refund.pk).update(
            status=RefundStatus.SUCCEEDED, succeeded_at=now, updated_at=now
        )
        refund.refresh_from_db()
        _publish_succeeded(refund)
        return refund
    ledger_post(
        kind=LEDGER_KIND_REFUND_HOLD,
        postings=[
            Posting(source, -amount),
            Posting(refunds_in_flight_account(currency=amount.currency), amount),
        ],
        reference=f"refund:{refund.id}:hold",
        description="退款处理中",
        metadata=metadata,
    )
    return refund


def _replayed(existing: Refund, *, amount_fen: int) -> Refund:
    if existing.amount_fen != amount_fen:
        raise RefundKeyReused()
    return existing


def refund_submit(*, refund: Refund) -> bool:
    """Hand a pending refund's provider part to the provider (outside any transaction).

    Safe to repeat (providers are idempotent on the refund id). A refusal fails the refund
    (the money goes back); an unreachable provider leaves it pending for
    :func:`refunds_submit_pending`.
    """
    intent = refund.intent
    adapter = provider_get(refund.provider)
    try:
        accepted = adapter.create_refund(
            RefundRequest(
                out_reference=str(refund.id),
                payment_reference=intent.provider_reference,
                amount=Money(refund.provider_amount_fen, refund.currency),
                payment_total=Money(intent.provider_amount_fen, intent.currency),
                reason=refund.reason,
            )
        )
    except ProviderRefundRefused as exc:
        logger.warning(
            "provider refused a refund", extra={"refund_id": str(refund.id), "extra": exc.extra}
        )
        _refund_settle_failed(refund_id=refund.pk, failure_reason="refused_by_provider")
        return False
    except Exception:  # network or provider trouble: the money stays in flight, retried later
        logger.exception("refund submission failed", extra={"refund_id": str(refund.id)})
        return False
    now = clock.now()
    Refund.objects.filter(pk=refund.pk, provider_reference="").update(
        provider_reference=accepted.reference[:100], submitted_at=now, updated_at=now
    )
    return True


def refunds_submit_pending() -> int:
    """Retry refunds whose provider part was never accepted (a provider outage)."""
    done = 0
    for refund in Refund.objects.filter(
        status=RefundStatus.PENDING, provider_reference=""
    ).select_related("intent"):
        done += refund_submit(refund=refund)
    return done


@transaction.atomic(durable=True)
def _refund_settle_failed(*, refund_id: uuid.UUID, failure_reason: str) -> str:
    refund = Refund.objects.select_for_update().get(pk=refund_id)
    return _refund_fail(refund, failure_reason=failure_reason)


# --- settling from the provider's refund notifications ------------------------------------------


def refund_notification_receive(
    *, provider: str, headers: Mapping[str, str], body: bytes
) -> NotificationResult:
    """Authenticate a refund notification and apply it exactly once.

    Outcomes: ``succeeded``, ``failed``, ``duplicate``, ``already_succeeded``,
    ``already_failed``, ``late_success``, ``ignored_succeeded``, ``unknown_reference``; raises
    ``InvalidSignature`` / ``StaleNotification`` / ``MalformedNotification`` (kept for audit)
    and ``AmountMismatch`` (refund flagged, nothing moves).
    """
    adapter = provider_get(provider)
    text = body.decode("utf-8", errors="replace")
    try:
        notification = adapter.verify_refund_notification(headers, body)
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
    result = _refund_notification_apply(
        provider=provider, notification=notification, headers=_safe_headers(headers), body=text
    )
    if result.outcome == "amount_mismatch":
        raise AmountMismatch(extra={"refund_id": result.intent_id})
    return result


@transaction.atomic(durable=True)
def _refund_notification_apply(
    *, provider: str, notification: RefundNotification, headers: dict[str, str], body: str
) -> NotificationResult:
    try:
        with transaction.atomic():
            record = ProviderNotification.objects.create(
                provider=provider,
                event_id=notification.event_id,
                headers=headers,
                body=body,
                signature_valid=True,
            )
    except IntegrityError:
        return NotificationResult(outcome="duplicate")
    try:
        refund_id = uuid.UUID(notification.out_reference)
    except ValueError:
        refund_id = None
    # Found by our own id, not the provider's: the notification may overtake the answer to
    # create_refund that would have told us the provider's reference.
    refund = (
        Refund.objects.select_for_update().filter(pk=refund_id, provider=provider).first()
        if refund_id
        else None
    )
    if refund is None:
        logger.warning(
            "refund notification for an unknown refund",
            extra={"provider": provider, "event_id": notification.event_id},
        )
        outcome = "unknown_reference"
    elif (notification.amount.amount, notification.amount.currency) != (
        refund.provider_amount_fen,
        refund.currency,
    ):
        _flag(refund, "amount_mismatch")
        outcome = "amount_mismatch"
    elif notification.status == "succeeded":
        if not refund.provider_reference and notification.reference:
            Refund.objects.filter(pk=refund.pk, provider_reference="").update(
                provider_reference=notification.reference
            )
        outcome = _refund_succeed(refund)
    else:
        outcome = _refund_fail(refund, failure_reason=notification.failure_reason)
    record.refund = refund
    record.processed = True
    record.outcome = outcome
    record.save(update_fields=["refund", "processed", "outcome", "updated_at"])
    return NotificationResult(outcome=outcome, intent_id=str(refund.id) if refund else None)


def _flag(refund: Refund, flag: str) -> None:
    Refund.objects.filter(pk=refund.pk).update(flag=flag, updated_at=clock.now())
    logger.error("refund flagged", extra={"refund_id": str(refund.id), "flag": flag})


def _refund_succeed(refund: Refund) -> str:
    if refund.status == RefundStatus.SUCCEEDED:
        return "already_succeeded"
    now = clock.now()
    moved = Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
        status=RefundStatus.SUCCEEDED, succeeded_at=now, updated_at=now
    )
    if moved != 1:
        # Failed first (the money went back to the source): never move it a second time.
        _flag(refund, "success_after_failure")
        return "late_success"
    intent = refund.intent
    currency = refund.currency
    postings = [
        Posting(refunds_in_flight_account(currency=currency), -Money(refund.amount_fen, currency)),
        Posting(
            system_account(kind=AccountKind.PROVIDER_CLEARING, currency=currency),
            Money(refund.provider_amount_fen, currency),
        ),
    ]
    if refund.wallet_amount_fen:
        postings.append(
            Posting(
                wallet_account_for_user(user=intent.payer, currency=currency),
                Money(refund.wallet_amount_fen, currency),
            )
        )
    ledger_post(
        kind=LEDGER_KIND_REFUND,
        postings=postings,
        reference=f"refund:{refund.id}",
        description="退款",
        metadata={"refund_id": str(refund.id), "intent_id": str(intent.id)},
    )
    _publish_succeeded(refund)
    return "succeeded"


def _refund_fail(refund: Refund, *, failure_reason: str) -> str:
    """Called with the refund row locked."""
    if refund.status == RefundStatus.FAILED:
        return "already_failed"
    now = clock.now()
    moved = Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
        status=RefundStatus.FAILED,
        failure_reason=(failure_reason or "refund_failed")[:64],
        failed_at=now,
        updated_at=now,
    )
    if moved != 1:
        _flag(refund, "failure_after_success")
        return f"ignored_{refund.status}"
    intent = PaymentIntent.objects.select_for_update().get(pk=refund.intent_id)
    PaymentIntent.objects.filter(pk=intent.pk).update(
        refunded_fen=F("refunded_fen") - refund.amount_fen, updated_at=now
    )
    amount = Money(refund.amount_fen, refund.currency)
    ledger_post(
        kind=LEDGER_KIND_REFUND_RETURN,
        postings=[
            Posting(refunds_in_flight_account(currency=amount.currency), -amount),
            Posting(intent_funds_account(intent), amount),
        ],
        reference=f"refund:{refund.id}:return",
        description="退款失败退回",
        metadata={"refund_id": str(refund.id), "intent_id": str(intent.id)},
    )
    return "failed"


def _publish_succeeded(refund: Refund) -> None:
    from yaji.core.outbox import outbox_publish

    outbox_publish(
        topic=TOPIC_REFUND_SUCCEEDED,
        payload={
            "refund_id": str(refund.id),
            "intent_id": str(refund.intent_id),
            "amount_fen": refund.amount_fen,
            "currency": refund.currency,
        },
        key=str(refund.intent_id),
    )


# --- reconciliation ---------------------------------------------------------------------------


def check_refunds_posted(progress: Progress) -> list[Discrepancy]:
    """Refunds posted = refunds succeeded: every succeeded refund has its ``refund:<id>``
    transaction paying out exactly its amount, no such transaction exists for any other refund,
    and every intent's ``refunded_fen`` equals its pending + succeeded refunds."""
    progress.start(3)
    posted: dict[str, int] = {
        row["transaction__reference"]: row["total"]
        for row in LedgerEntry.objects.filter(transaction__kind=LEDGER_KIND_REFUND, amount__gt=0)
        .exclude(account__kind=AccountKind.ESCROW)
        .order_by()
        .values("transaction__reference")
        .annotate(total=Sum("amount"))
    }
    progress.advance()
    found: list[Discrepancy] = []
    succeeded = dict(
        Refund.objects.filter(status=RefundStatus.SUCCEEDED).values_list("id", "amount_fen")
    )
    for refund_id, amount_fen in succeeded.items():
        got = posted.pop(f"refund:{refund_id}", 0)
        if got != amount_fen:
            found.append(
                Discrepancy(
                    subject=f"refund {refund_id} (succeeded)",
                    expected=f"{amount_fen} minor units paid out",
                    actual=f"{got} minor units posted",
                )
            )
    for reference, total in sorted(posted.items()):
        found.append(
            Discrepancy(
                subject=f"ledger {reference}",
                expected="a succeeded refund",
                actual=f"{total} minor units paid out for a refund not succeeded",
            )
        )
    progress.advance()
    live = Q(refunds__status__in=[RefundStatus.PENDING, RefundStatus.SUCCEEDED])
    off = (
        PaymentIntent.objects.filter(Q(refunded_fen__gt=0) | Q(refunds__isnull=False))
        .annotate(total=Coalesce(Sum("refunds__amount_fen", filter=live), 0))
        .exclude(refunded_fen=F("total"))
        .values("pk", "refunded_fen", "total")
        .distinct()
    )
    for row in off[:MAX_REPORTED]:
        found.append(
            Discrepancy(
                subject=f"payment intent {row['pk']} refunded_fen",
                expected=f"{row['total']} minor units (pending + succeeded refunds)",
                actual=f"{row['refunded_fen']} minor units",
            )
        )
    progress.advance()
    return found[:MAX_REPORTED]


def check_refunds_in_flight(progress: Progress) -> list[Discrepancy]:
    """The refunds-in-flight escrow holds exactly the money of pending refunds, per currency."""
    progress.start(1)
    expected: dict[str, int] = defaultdict(int)
    for row in (
        Refund.objects.filter(status=RefundStatus.PENDING)
        .order_by()
        .values("currency")
        .annotate(total=Sum("amount_fen"))
    ):
        expected[row["currency"]] = row["total"]
    actual = dict(
        LedgerAccount.objects.filter(
            kind=AccountKind.ESCROW, owner__isnull=True, owner_ref=IN_FLIGHT_OWNER_REF
        ).values_list("currency", "balance")
    )
    found = [
        Discrepancy(
            subject=f"refunds in flight {currency}",
            expected=f"{expected.get(currency, 0)} minor units (pending refunds)",
            actual=f"{actual.get(currency, 0)} minor units",
        )
        for currency in sorted(set(expected) | set(actual))
        if expected.get(currency, 0) != actual.get(currency, 0)
    ]
    progress.advance()
    return found
