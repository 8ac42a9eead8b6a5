"""Red packets funded through a payment (issue #7 "funded from the wallet or through a
payment", ADR 0042), following the checkout pattern of ADR 0026.

A sender without enough balance pays the packet's total — or, with ``use_wallet``, the
shortfall after their wallet balance — through a payments checkout intent (the sandbox's
hosted pay page, WeChat Pay ...):

1. :func:`red_packet_send_paid` runs every check of a wallet send first, risk control
   included (:func:`~yaji.redpackets.services.red_packet_send_prepare`), then commits the packet
   as ``pending_payment`` with its shares drawn and nothing in its escrow, then asks payments
   for an intent whose subject is ``redpackets.packet:<id>`` and whose deadline is the packet's
   ``pay_by`` (told to the provider, so nobody can pay later). The wallet part, if any, is held
   by payments at once.
2. When the intent succeeds — on the provider's signed notification (or at once, when the
   wallet covered it all) — payments calls :func:`red_packet_intent_succeeded` inside the
   very transaction that records the notification, with the money in the intent's escrow.
   Still pending → intent escrow → the packet's escrow under ``redpacket:<id>:fund`` (the
   wallet send's reference: no path can fund a packet twice), the packet goes live with its
   24 hours starting now, and its Redis gate opens after commit. Cancelled, already live, or
   the amounts disagree → refused, and payments refunds the intent in full in that transaction.
3. Unpaid by ``pay_by``: :func:`red_packet_cancel_unpaid_due` (the minute job) cancels it —
   no money ever reached the packet; payments' own expiry gives a held wallet part back.

Duplicate and out-of-order notifications stop in payments (unique event id, conditional
status moves) before they reach the handler; the packet's row lock orders the handler against
the cancel job: whichever comes second sees the other's result.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.urls import reverse

from yaji.accounts.models import User
from yaji.core import clock
from yaji.core.money import Money
from yaji.core.outbox import outbox_publish
from yaji.ledger.services import ledger_transfer
from yaji.payments import selectors as payments_selectors
from yaji.payments import services as payments_services
from yaji.payments.models import OPEN_STATUSES, PaymentIntent
from yaji.payments.providers import default_provider_name, provider_get
from yaji.redpackets.errors import FundingInvalid, PacketNotFound, PacketNotPayable
from yaji.redpackets.models import Condition, PacketStatus, RedPacket
from yaji.redpackets.services import (
    CURRENCY,
    LEDGER_KIND_FUND,
    LIFETIME,
    RISK_SEND,
    escrow_account_for,
    red_packet_create,
    red_packet_gate_open,
    red_packet_publish_sent,
    red_packet_send_prepare,
)
from yaji.risk.services import risk_activity_withdraw

logger = logging.getLogger(__name__)

SUBJECT_KIND = "redpackets.packet"
# How long the sender has to pay; the intent and the provider get the same deadline.
PAY_WINDOW = timedelta(minutes=15)
TOPIC_CANCELLED = "redpackets.cancelled"


@dataclass(frozen=True, slots=True)
class PaidSend:
    packet: RedPacket
    intent: PaymentIntent


def packet_subject(packet_id: int) -> str:
    return payments_services.intent_subject(kind=SUBJECT_KIND, subject_id=packet_id)


def red_packet_send_paid(
    *,
    sender: User,
    total_fen: int,
    count: int,
    split_type: str,
    blessing: str = "",
    work_id: int | None = None,
    condition: str = Condition.NONE,
    audience: str = "public",
    lat: float | None = None,
    lng: float | None = None,
    radius_m: int | None = None,
    device: str = "",
    ip: str | None = None,
    use_wallet: bool = True,
    provider: str | None = None,
    rng: random.Random | None = None,
) -> PaidSend:
    """Send a packet paid through ``provider``: with ``use_wallet`` the wallet's balance pays
    first and the provider the rest. Returns the pending packet and the intent (its
    ``pay_url`` is the provider's pay page); when the wallet covered everything the packet is
    live on return.

    Refusals before anything is written: the wallet send's (``packet_*``, ``blessing_rejected``,
    risk control's ``risk_denied`` / ``step_up_required`` / ``account_frozen``) and
    ``unknown_payment_provider``. A failure to start the payment (the provider down, the
    wallet emptied meanwhile) cancels the packet, which never held money, and is raised.
    """
    if not isinstance(use_wallet, bool):
        raise FundingInvalid(extra={"field": "use_wallet"})
    provider = provider or default_provider_name()
    provider_get(provider)  # unknown or unconfigured provider → refused before any write
    plan = red_packet_send_prepare(
        sender=sender,
        total_fen=total_fen,
        count=count,
        split_type=split_type,
        blessing=blessing,
        work_id=work_id,
        condition=condition,
        audience=audience,
        lat=lat,
        lng=lng,
        radius_m=radius_m,
        device=device,
        ip=ip,
        rng=rng,
    )
    wallet_part = 0
    if use_wallet:
        balance = payments_selectors.wallet_balance(user=sender, currency=CURRENCY).amount
        wallet_part = max(0, min(balance, total_fen))
    now = clock.now()
    pay_by = now + PAY_WINDOW
    with transaction.atomic(durable=True):
        # Its 24 h life starts when the money arrives; until then expires_at is a bound.
        packet = red_packet_create(
            plan, status=PacketStatus.PENDING_PAYMENT, expires_at=pay_by + LIFETIME, pay_by=pay_by
        )
    try:
        intent = payments_services.checkout_intent_create(
            payer=sender,
            amount_fen=total_fen,
            wallet_amount_fen=wallet_part,
            currency=CURRENCY,
            provider=provider,
            subject=packet_subject(packet.pk),
            expires_at=pay_by,
            return_url=reverse("redpackets:packet", args=[packet.pk]) + "?returned=1",
        )
    except BaseException:
        _cancel_one(packet_id=packet.pk, now=clock.now(), reason="payment_not_started")
        raise
    packet.refresh_from_db()
    return PaidSend(packet=packet, intent=intent)


def red_packet_intents(*, packet: RedPacket) -> list[PaymentIntent]:
    """The payment intents of a packet, newest first (for its sender's page)."""
    return list(
        PaymentIntent.objects.filter(subject=packet_subject(packet.pk)).order_by("-created_at")
    )


def red_packet_intent_succeeded(intent: PaymentIntent) -> bool:
    """Payments' subject handler (see the module docstring): runs inside payments'
    transaction with the intent's whole amount in its escrow. True = the packet took the
    money and is live; False = refuse it (payments refunds the intent in full)."""
    try:
        packet_id = int(intent.subject.rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return False
    with transaction.atomic():
        packet = (
            RedPacket.objects.select_for_update()
            .filter(pk=packet_id, sender_id=intent.payer_id)
            .first()
        )
        if packet is None or packet.status != PacketStatus.PENDING_PAYMENT:
            return False
        if (packet.total_fen, packet.currency) != (intent.amount_fen, intent.currency):
            logger.error(
                "red packet intent amount differs from the packet",
                extra={"intent_id": str(intent.id), "packet_id": packet.pk},
            )
            return False
        now = clock.now()
        ledger_transfer(
            source=payments_services.intent_escrow_account(intent),
            destination=escrow_account_for(packet),
            amount=Money(packet.total_fen, CURRENCY),
            reference=f"redpacket:{packet.pk}:fund",
            kind=LEDGER_KIND_FUND,
            description=f"red packet {packet.pk}",
            metadata={
                "intent_id": str(intent.id),
                "method": "wallet" if intent.provider_amount_fen == 0 else intent.provider,
                "wallet_fen": intent.wallet_amount_fen,
            },
        )
        packet.status = PacketStatus.ACTIVE
        packet.funded_at = now
        packet.expires_at = now + LIFETIME
        RedPacket.objects.filter(pk=packet.pk).update(
            status=packet.status,
            funded_at=now,
            expires_at=packet.expires_at,
            updated_at=now,
        )
        red_packet_publish_sent(packet)
        transaction.on_commit(lambda: red_packet_gate_open(packet))
    return True


# --- unpaid packets -----------------------------------------------------------------------------


def red_packet_cancel_unpaid(*, sender: User, packet_id: int) -> RedPacket:
    """The sender gives up paying their pending packet (a payment arriving later is
    refunded). Others' packets are 404; a live or closed one is ``packet_not_payable``."""
    if not RedPacket.objects.filter(pk=packet_id, sender=sender).exists():
        raise PacketNotFound()
    if not _cancel_one(packet_id=packet_id, now=clock.now(), reason="sender"):
        raise PacketNotPayable()
    return RedPacket.objects.get(pk=packet_id)


def red_packet_cancel_unpaid_due(*, now: datetime | None = None, batch: int = 500) -> int:
    """Cancel pending packets past ``pay_by``; returns how many. Safe to run twice or
    concurrently (each moves under its row lock, only while still pending)."""
    now = now or clock.now()
    done = 0
    ids = list(
        RedPacket.objects.filter(status=PacketStatus.PENDING_PAYMENT, pay_by__lte=now)
        .order_by("pay_by", "pk")
        .values_list("pk", flat=True)[:batch]
    )
    for packet_id in ids:
        done += _cancel_one(packet_id=packet_id, now=now, reason="unpaid")
    return done


def _cancel_one(*, packet_id: int, now: datetime, reason: str) -> int:
    with transaction.atomic(durable=True):
        packet = (
            RedPacket.objects.select_for_update()
            .filter(pk=packet_id, status=PacketStatus.PENDING_PAYMENT)
            .first()
        )
        if packet is None:  # paid or cancelled meanwhile
            return 0
        RedPacket.objects.filter(pk=packet.pk).update(status=PacketStatus.CANCELLED, updated_at=now)
        # Its money never moved: it no longer counts towards the sender's daily limits.
        risk_activity_withdraw(
            user=packet.sender, action=RISK_SEND, reference=f"redpacket:{packet.pk}"
        )
        outbox_publish(
            topic=TOPIC_CANCELLED,
            payload={"packet_id": packet.pk, "reason": reason},
            key=str(packet.pk),
        )
    # Committed: cancel its open payment intents (their held wallet part goes back now; a
    # provider payment arriving later is still refunded in full by payments). After the
    # commit, not inside it: payments' notification locks the intent before the packet.
    _intents_cancel(packet_id=packet_id)
    return 1


def _intents_cancel(*, packet_id: int) -> None:
    for intent_id in PaymentIntent.objects.filter(
        subject=packet_subject(packet_id), status__in=OPEN_STATUSES
    ).values_list("pk", flat=True):
        try:
            payments_services.payment_intent_cancel(intent_id=intent_id)
        except Exception:
            # The packet is cancelled either way; payments' own expiry returns the hold then.
            logger.exception("red packet: could not cancel its payment intent")


def red_packet_subject_register() -> None:
    """Called from ``AppConfig.ready``: payments hands succeeded packet intents to us."""
    payments_services.intent_subject_handler_register(
        kind=SUBJECT_KIND, on_succeeded=red_packet_intent_succeeded
    )
