"""Refunds of succeeded payment intents, full or partial, back the way the money came
(ADR 0017, ADR 0039).

**Which method gets what.** A refund of ``amount`` is split once, when it is created: first the
part paid through the provider that is not refunded yet, then the wallet part — the provider
part first because provider refunds have deadlines (WeChat Pay: one year) while a wallet refund
can always be made, and because the buyer brought that money from outside. Over several
refunds of one intent (several orders of one checkout, an after-sale then a clawback) the rule
is applied to what each method still holds, so the parts never exceed what each method paid.

Money path (integer fen, all through :func:`yaji.ledger.services.ledger_post`); the *source*
is where the money to refund sits — the payer's wallet for a top-up, the intent's escrow for a
checkout refunded because it closed, the order's escrow (before settlement) or the shop's
payable (a clawback after settlement) for trade's refunds:

1. ``refund_hold_locked`` (the intent row locked by the caller; ``refund_create`` locks it
   itself) checks ``refunded_fen + amount <= amount_fen`` (the CHECK constraint
   ``payments_intent_refunds_le_paid`` backs it), creates the refund, raises ``refunded_fen``
   and posts once: source → the payer's wallet (wallet part, at once) + the refunds-in-flight
   escrow (provider part). With no provider part the refund has ``succeeded``; otherwise it is
   ``pending`` and, after commit and outside any transaction, the provider is asked to refund
   (idempotent on the refund id; retried by :func:`refunds_submit_pending` while the provider
   cannot be reached; a refusal counts as a failure).
2. The provider's signed refund notification settles the provider part exactly once:
   success → in-flight → provider clearing (``refund:<id>``), ``succeeded``; failure →
   - checkout refunds (``fallback_to_wallet``): in-flight → the payer's wallet
     (``refund:<id>:fallback``), ``wallet_fallback`` — the money is the buyer's, and the order
     it refunded is closed, so it must not go back to the shop or sit anywhere;
   - top-ups: in-flight → the wallet it came from (``refund:<id>:return``), ``failed``, and
     ``refunded_fen`` goes down again (the amount is refundable again).

Exactly once under duplicated, concurrent and out-of-order notifications
(:mod:`yaji.payments.notifications`): unique event id, the refund row locked and moved out of
``pending`` only by a conditional update, every posting under a unique reference. The first
final notification wins; a contradicting later one flags the refund for an operator.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Sum, When
from django.db.models.functions import Coalesce

from yaji.accounts.models import User
from yaji.core import clock
from yaji.core.errors import InvalidAmount
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
    IntentNotRefundable,
    ProviderRefundRefused,
    RefundExceedsPaid,
    RefundKeyReused,
    RefundNotAllowed,
)
from yaji.payments.models import (
    REFUND_LIVE_STATUSES,
    IntentPurpose,
    IntentStatus,
    PaymentIntent,
    ProviderNotification,
    Refund,
    RefundStatus,
)
from yaji.payments.notifications import (
    NotificationResult,
    apply_to_row,
    notification_receive,
    row_locked_by_uuid,
    status_settle,
)
from yaji.payments.providers import provider_get
from yaji.payments.providers.base import RefundNotification, RefundRequest
from yaji.payments.selectors import payment_intent_get_for_user
from yaji.payments.services import intent_funds_account

logger = logging.getLogger(__name__)

LEDGER_KIND_REFUND = "payment_refund"
LEDGER_KIND_REFUND_HOLD = "payment_refund_hold"
LEDGER_KIND_REFUND_RETURN = "payment_refund_return"
LEDGER_KIND_REFUND_FALLBACK = "payment_refund_fallback"
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
    """Refund ``amount_fen`` of a succeeded intent from where its money went (see the module
    docstring).

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


def refund_to_methods(
    *,
    intent_id: object,
    amount_fen: int,
    source: LedgerAccount,
    request_key: str,
    reason: str = "",
    order_id: int | None = None,
    also: Sequence[Posting] = (),
    kind: str = "",
    description: str = "",
    metadata: Mapping[str, object] | None = None,
) -> Refund:
    """Give ``amount_fen`` back to the methods that paid intent ``intent_id``, taken from
    ``source`` (an order's escrow, a shop's payable), inside the caller's transaction.

    For trade's refunds (ADR 0039): locks the intent (after the caller's own rows), splits the
    amount (provider part first), posts one ledger transaction — ``source`` pays the refund and
    the lines of ``also`` (e.g. the settlement of the part an after-sale keeps), so the source's
    debit and its credits lock their accounts together — and submits the provider part to the
    provider once the caller commits. ``request_key`` (e.g. ``after_sale:<id>``) makes a retry
    return the first refund. A failed provider part falls back to the payer's wallet.
    """
    amount = _refund_amount(amount_fen)
    intent = PaymentIntent.objects.select_for_update().select_related("payer").get(pk=intent_id)
    refund = refund_hold_locked(
        intent=intent,
        amount_fen=amount,
        reason=(reason or "").strip()[:REASON_MAX],
        request_key=request_key[:255],
        source=source,
        order_id=order_id,
        also=also,
        kind=kind,
        description=description,
        metadata=metadata,
    )
    refund_submit_on_commit(refund)
    return refund


def refund_hold_locked(
    *,
    intent: PaymentIntent,
    amount_fen: int,
    reason: str,
    request_key: str,
    source: LedgerAccount | None = None,
    order_id: int | None = None,
    also: Sequence[Posting] = (),
    kind: str = "",
    description: str = "",
    metadata: Mapping[str, object] | None = None,
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
    provider_refunded = Refund.objects.filter(
        intent=intent, status__in=[RefundStatus.PENDING, RefundStatus.SUCCEEDED]
    ).aggregate(total=Coalesce(Sum("provider_amount_fen"), 0))["total"]
    # What the provider still holds of this payment; a part that fell back to the wallet is
    # still at the provider, so it counts as not refunded there.
    provider_part = max(0, min(amount_fen, intent.provider_amount_fen - provider_refunded))
    wallet_part = amount_fen - provider_part
    now = clock.now()
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
                order_id=order_id,
                # Only a checkout's refund can fall back: a top-up's money came from the card
                # and goes back to the wallet it was paid into (refundable again) on failure.
                fallback_to_wallet=intent.purpose == IntentPurpose.CHECKOUT,
                wallet_refunded_at=now if wallet_part else None,
                status=RefundStatus.PENDING if provider_part else RefundStatus.SUCCEEDED,
                succeeded_at=None if provider_part else now,
            )
    except IntegrityError:  # the same key committed concurrently (we hold the intent lock,
        # so this only happens if the key was used with a different transaction path)
        existing = Refund.objects.filter(intent=intent, request_key=request_key).first()
        if existing is None:
            raise
        return _replayed(existing, amount_fen=amount_fen)
    # The CHECK (refunded_fen <= amount_fen) is the last line should the lock ever be bypassed.
    PaymentIntent.objects.filter(pk=intent.pk).update(
        refunded_fen=F("refunded_fen") + amount_fen, updated_at=now
    )
    currency = intent.currency
    source = source or intent_funds_account(intent)
    extra_fen = sum(p.amount.amount for p in also)
    postings = [Posting(source, -Money(amount_fen + extra_fen, currency)), *also]
    if wallet_part:
        if source.kind == AccountKind.USER_WALLET:  # a top-up never has a wallet part
            raise RefundNotAllowed(extra={"reason": "wallet part refunded to its own source"})
        postings.append(
            Posting(
                wallet_account_for_user(user=intent.payer, currency=currency),
                Money(wallet_part, currency),
            )
        )
    if provider_part:
        postings.append(
            Posting(refunds_in_flight_account(currency=currency), Money(provider_part, currency))
        )
    ledger_post(
        kind=kind or (LEDGER_KIND_REFUND_HOLD if provider_part else LEDGER_KIND_REFUND),
        postings=postings,
        # A refund without a provider part is complete with this posting: ``refund:<id>``.
        reference=f"refund:{refund.id}:hold" if provider_part else f"refund:{refund.id}",
        description=description or ("退款处理中" if provider_part else "退款"),
        metadata={
            **(metadata or {}),
            "refund_id": str(refund.id),
            "intent_id": str(intent.id),
            "wallet_fen": wallet_part,
            "provider_fen": provider_part,
        },
    )
    if not provider_part:
        _publish_succeeded(refund)
    return refund


def _replayed(existing: Refund, *, amount_fen: int) -> Refund:
    if existing.amount_fen != amount_fen:
        raise RefundKeyReused()
    return existing


def refund_submit(*, refund: Refund) -> bool:
    """Hand a pending refund's provider part to the provider (outside any transaction).

    Safe to repeat (providers are idempotent on the refund id). A refusal fails the provider
    part (it falls back to the wallet, or goes back for a top-up); an unreachable provider
    leaves it pending for :func:`refunds_submit_pending` (the operator's finance page lists
    refunds in flight with their age).
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

    Outcomes: ``succeeded``, ``failed``, ``wallet_fallback``, ``duplicate``,
    ``already_succeeded``, ``already_failed``, ``late_success``, ``ignored_succeeded``,
    ``unknown_reference``; raises ``InvalidSignature`` / ``StaleNotification`` /
    ``MalformedNotification`` (kept for audit) and ``AmountMismatch`` (refund flagged, nothing
    moves).
    """
    adapter = provider_get(provider)

    def apply(
        record: ProviderNotification, notification: RefundNotification
    ) -> tuple[str, str | None]:
        # Found by our own id, not the provider's: the notification may overtake the answer to
        # create_refund that would have told us the provider's reference.
        refund = row_locked_by_uuid(Refund, notification.out_reference, provider=provider)

        def succeeded() -> str:
            assert refund is not None
            if not refund.provider_reference and notification.reference:
                Refund.objects.filter(pk=refund.pk, provider_reference="").update(
                    provider_reference=notification.reference
                )
            return _refund_succeed(refund)

        def failed() -> str:
            assert refund is not None
            return _refund_fail(refund, failure_reason=notification.failure_reason)

        return apply_to_row(
            record,
            notification,
            provider=provider,
            row=refund,
            link="refund",
            amount_fen=lambda r: r.provider_amount_fen,
            on_success=succeeded,
            on_failure=failed,
        )

    return notification_receive(
        provider=provider,
        headers=headers,
        body=body,
        verify=adapter.verify_refund_notification,
        apply=apply,
        subject_key="refund_id",
    )


def _held_wallet_part(refund: Refund) -> int:
    """The wallet part still waiting in flight: only refunds made before ADR 0039 held it."""
    return refund.wallet_amount_fen if refund.wallet_refunded_at is None else 0


def _refund_succeed(refund: Refund) -> str:
    now = clock.now()
    # Failed first (the money went back or to the wallet): never move it a second time.
    stopped = status_settle(
        refund,
        open_statuses=[RefundStatus.PENDING],
        final=RefundStatus.SUCCEEDED,
        already="already_succeeded",
        contradicted="late_success",
        flag="success_after_failure",
        succeeded_at=now,
    )
    if stopped:
        return stopped
    currency = refund.currency
    held_wallet = _held_wallet_part(refund)
    postings = [
        Posting(
            refunds_in_flight_account(currency=currency),
            -Money(refund.provider_amount_fen + held_wallet, currency),
        ),
        Posting(
            system_account(kind=AccountKind.PROVIDER_CLEARING, currency=currency),
            Money(refund.provider_amount_fen, currency),
        ),
    ]
    if held_wallet:
        postings.append(
            Posting(
                wallet_account_for_user(user=refund.intent.payer, currency=currency),
                Money(held_wallet, currency),
            )
        )
        Refund.objects.filter(pk=refund.pk).update(wallet_refunded_at=now)
    ledger_post(
        kind=LEDGER_KIND_REFUND,
        postings=postings,
        reference=f"refund:{refund.id}",
        description="退款",
        metadata={"refund_id": str(refund.id), "intent_id": str(refund.intent_id)},
    )
    _publish_succeeded(refund)
    return "succeeded"


def _refund_fail(refund: Refund, *, failure_reason: str) -> str:
    """The provider could not refund its part; called with the refund row locked."""
    now = clock.now()
    final = RefundStatus.WALLET_FALLBACK if refund.fallback_to_wallet else RefundStatus.FAILED
    stopped = status_settle(
        refund,
        open_statuses=[RefundStatus.PENDING],
        final=final,
        already=f"already_{final}" if final == RefundStatus.FAILED else "already_fallback",
        contradicted=f"ignored_{refund.status}",
        flag="failure_after_success",
        failure_reason=(failure_reason or "refund_failed")[:64],
        failed_at=now,
    )
    if stopped:
        return stopped
    held = refund.provider_amount_fen + _held_wallet_part(refund)
    amount = Money(held, refund.currency)
    metadata = {
        "refund_id": str(refund.id),
        "intent_id": str(refund.intent_id),
        "failure_reason": failure_reason,
    }
    if refund.fallback_to_wallet:
        # The buyer's money, and the order it refunded is closed: into their wallet, at once,
        # rather than back to an escrow or payable that no longer expects it (ADR 0039).
        ledger_post(
            kind=LEDGER_KIND_REFUND_FALLBACK,
            postings=[
                Posting(refunds_in_flight_account(currency=amount.currency), -amount),
                Posting(
                    wallet_account_for_user(user=refund.intent.payer, currency=amount.currency),
                    amount,
                ),
            ],
            reference=f"refund:{refund.id}:fallback",
            description="原路退回失败，已退至钱包",
            metadata=metadata,
        )
        if refund.wallet_amount_fen and refund.wallet_refunded_at is None:
            Refund.objects.filter(pk=refund.pk).update(wallet_refunded_at=now)
        _publish_succeeded(refund)
        return "wallet_fallback"
    intent = PaymentIntent.objects.select_for_update().get(pk=refund.intent_id)
    PaymentIntent.objects.filter(pk=intent.pk).update(
        refunded_fen=F("refunded_fen") - refund.amount_fen, updated_at=now
    )
    ledger_post(
        kind=LEDGER_KIND_REFUND_RETURN,
        postings=[
            Posting(refunds_in_flight_account(currency=amount.currency), -amount),
            Posting(intent_funds_account(intent), amount),
        ],
        reference=f"refund:{refund.id}:return",
        description="退款失败退回",
        metadata=metadata,
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
    """Refunds posted = refunds made, per method: every refund's ``refund:<id>…`` transactions
    paid exactly its wallet part into the wallet once it was refunded there (plus the provider
    part after a fallback), exactly its provider part into provider clearing once succeeded,
    nothing for a refund that has not got that far; every intent's ``refunded_fen`` equals its
    pending + succeeded + fallen-back refunds."""
    progress.start(3)
    posted: dict[tuple[str, str], int] = defaultdict(int)
    for row in (
        LedgerEntry.objects.filter(
            transaction__reference__startswith="refund:",
            amount__gt=0,
            account__kind__in=[AccountKind.USER_WALLET, AccountKind.PROVIDER_CLEARING],
        )
        # A top-up's failed refund goes back to the wallet it came from: not a payout.
        .exclude(transaction__kind=LEDGER_KIND_REFUND_RETURN)
        .order_by()
        .values("transaction__reference", "account__kind")
        .annotate(total=Sum("amount"))
    ):
        refund_id = row["transaction__reference"].split(":")[1]
        posted[(refund_id, row["account__kind"])] += row["total"]
    progress.advance()
    found: list[Discrepancy] = []
    for refund in Refund.objects.only(
        "id", "status", "wallet_amount_fen", "provider_amount_fen", "wallet_refunded_at"
    ).iterator(chunk_size=2000):
        key = str(refund.id)
        want_wallet = (refund.wallet_amount_fen if refund.wallet_refunded_at else 0) + (
            refund.provider_amount_fen if refund.status == RefundStatus.WALLET_FALLBACK else 0
        )
        want_provider = refund.provider_amount_fen if refund.status == RefundStatus.SUCCEEDED else 0
        for kind, want in (
            (AccountKind.USER_WALLET, want_wallet),
            (AccountKind.PROVIDER_CLEARING, want_provider),
        ):
            got = posted.pop((key, kind), 0)
            if got != want and len(found) < MAX_REPORTED:
                found.append(
                    Discrepancy(
                        subject=f"refund {key} ({refund.status}) to {kind}",
                        expected=f"{want} minor units paid out",
                        actual=f"{got} minor units posted",
                    )
                )
    for (refund_id, kind), total in sorted(posted.items())[:MAX_REPORTED]:
        found.append(
            Discrepancy(
                subject=f"ledger refund:{refund_id} to {kind}",
                expected="a refund",
                actual=f"{total} minor units paid out for no refund",
            )
        )
    progress.advance()
    live = Q(refunds__status__in=list(REFUND_LIVE_STATUSES))
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
                expected=f"{row['total']} minor units (pending + succeeded + fallen-back refunds)",
                actual=f"{row['refunded_fen']} minor units",
            )
        )
    progress.advance()
    return found[:MAX_REPORTED]


def refunds_in_flight_totals() -> dict[str, int]:
    """Per currency, the money pending refunds hold in flight: their provider parts (and the
    wallet parts of refunds made before ADR 0039, which waited with them)."""
    held = Case(
        When(wallet_refunded_at__isnull=True, then=F("amount_fen")),
        default=F("provider_amount_fen"),
    )
    return {
        row["currency"]: row["total"]
        for row in Refund.objects.filter(status=RefundStatus.PENDING)
        .order_by()
        .values("currency")
        .annotate(total=Sum(held))
    }


def check_refunds_in_flight(progress: Progress) -> list[Discrepancy]:
    """The refunds-in-flight escrow holds exactly the money of pending refunds, per currency."""
    progress.start(1)
    expected = refunds_in_flight_totals()
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
