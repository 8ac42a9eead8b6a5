"""Writes of red packets: send, claim (grab), refund what expired.

Concurrency (ARCHITECTURE.md §3), correct on the database alone:

- shares are drawn at send time, so a claim only has to take the next slot and the refund is the
  sum of the unclaimed shares;
- a claim is one short durable transaction: a conditional UPDATE takes the next slot on the
  packet row (``claimed_count < count AND status = 'active' AND expires_at > now``; 0 rows means
  finished or expired), the claim row goes in under ``UNIQUE(packet, user)``, share ``seq =
  claimed_count`` is marked (unique index), and the ledger posts escrow → wallet. Any failure
  (a double claim's IntegrityError included) raises out of the transaction, so the slot it took
  is rolled back with it;
- lock order everywhere: the packet row first, then ledger accounts (``ledger_post`` locks them in
  primary-key order). Expiry locks the packet row too, so a late claim and the refund serialise.

Each packet has its own escrow account (kind ``redpacket_escrow``, owner_ref ``redpacket:<id>``):
no single hot escrow row across packets, and reconciliation proves per packet that escrow holds
exactly ``total − claimed − refunded``.

The sender may grab their own packet (as in WeChat groups); it is one claim like anyone's.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Sum

from yaji.accounts.models import User
from yaji.community.selectors import play_completed, work_get
from yaji.core import clock
from yaji.core.money import Money
from yaji.core.outbox import outbox_publish
from yaji.ledger.models import AccountKind, LedgerAccount
from yaji.ledger.services import account_for, ledger_transfer, wallet_account_for_user
from yaji.redpackets.errors import (
    ListenRequired,
    PacketAlreadyClaimed,
    PacketAmountOutOfRange,
    PacketExpired,
    PacketFinished,
    PacketForbidden,
    PacketInvalid,
    PacketNotFound,
)
from yaji.redpackets.lucky_split import equal_split, lucky_split
from yaji.redpackets.models import (
    Audience,
    Condition,
    PacketStatus,
    RedPacket,
    RedPacketClaim,
    RedPacketShare,
    SplitType,
)

CURRENCY = "CNY"
LIFETIME = timedelta(hours=24)
MAX_TOTAL_FEN = 500_000  # 5,000 yuan per packet (PRODUCT C7); risk control may lower it later
BLESSING_MAX = 60

TOPIC_SENT = "redpackets.sent"
TOPIC_CLAIMED = "redpackets.claimed"
TOPIC_FINISHED = "redpackets.finished"
TOPIC_REFUNDED = "redpackets.refunded"

LEDGER_KIND_FUND = "redpacket.fund"
LEDGER_KIND_CLAIM = "redpacket.claim"
LEDGER_KIND_REFUND = "redpacket.refund"


def escrow_account_for(packet: RedPacket) -> LedgerAccount:
    return account_for(
        kind=AccountKind.REDPACKET_ESCROW, owner_ref=f"redpacket:{packet.pk}", currency=CURRENCY
    )


# --- send -------------------------------------------------------------------------------------


def red_packet_send(
    *,
    sender: User,
    total_fen: int,
    count: int,
    split_type: str,
    blessing: str = "",
    work_id: int | None = None,
    condition: str = Condition.NONE,
    audience: str = Audience.PUBLIC,
    rng: random.Random | None = None,
) -> RedPacket:
    """Draw the shares and move ``total_fen`` from the sender's wallet into the packet's escrow.

    One durable transaction: on any refusal (``insufficient_funds`` included) nothing is written.
    """
    if split_type not in SplitType.values:
        raise PacketInvalid(extra={"field": "split_type"})
    if condition not in Condition.values:
        raise PacketInvalid(extra={"field": "condition"})
    if audience not in Audience.values:
        raise PacketInvalid(extra={"field": "audience"})
    blessing = (blessing or "").strip()
    if len(blessing) > BLESSING_MAX:
        raise PacketInvalid(extra={"field": "blessing", "max_length": BLESSING_MAX})
    if isinstance(total_fen, int) and total_fen > MAX_TOTAL_FEN:
        raise PacketAmountOutOfRange(extra={"max_fen": MAX_TOTAL_FEN})
    if split_type == SplitType.LUCKY:
        amounts = lucky_split(total_fen, count, rng=rng)
    else:
        amounts = equal_split(total_fen, count, currency=CURRENCY)
    work = None
    if work_id is not None:
        work = work_get(work_id=work_id)
    if condition == Condition.LISTENED_FULL and work is None:
        raise PacketInvalid(extra={"field": "condition", "reason": "needs a bound work"})

    now = clock.now()
    with transaction.atomic(durable=True):
        packet = RedPacket.objects.create(
            sender=sender,
            total_fen=total_fen,
            currency=CURRENCY,
            count=count,
            split_type=split_type,
            blessing=blessing,
            work=work,
            condition=condition,
            audience=audience,
            invite_token=secrets.token_urlsafe(24) if audience == Audience.GROUP else "",
            expires_at=now + LIFETIME,
        )
        RedPacketShare.objects.bulk_create(
            [
                RedPacketShare(packet=packet, seq=seq, amount_fen=amount)
                for seq, amount in enumerate(amounts, start=1)
            ]
        )
        ledger_transfer(
            source=wallet_account_for_user(user=sender, currency=CURRENCY),
            destination=escrow_account_for(packet),
            amount=Money(total_fen, CURRENCY),
            reference=f"redpacket:{packet.pk}:fund",
            kind=LEDGER_KIND_FUND,
            description=f"red packet {packet.pk}",
        )
        outbox_publish(
            topic=TOPIC_SENT,
            payload={
                "packet_id": packet.pk,
                "sender_id": sender.pk,
                "total_fen": total_fen,
                "count": count,
                "work_id": work.pk if work else None,
            },
            key=str(packet.pk),
        )
    return packet


# --- claim ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Luckiest:
    user_id: int
    amount_fen: int


@dataclass(frozen=True, slots=True)
class ClaimResult:
    packet_id: int
    amount_fen: int
    finished: bool
    luckiest: Luckiest | None  # set once the packet is finished


def red_packet_luckiest(packet: RedPacket) -> Luckiest | None:
    """The largest claim of a finished packet (ties: the earlier claim)."""
    if packet.status != PacketStatus.FINISHED:
        return None
    row = (
        RedPacketClaim.objects.filter(packet=packet)
        .order_by("-amount_fen", "id")
        .values_list("user_id", "amount_fen")
        .first()
    )
    return Luckiest(user_id=row[0], amount_fen=row[1]) if row else None


def red_packet_check_access(
    *, packet: RedPacket, user: User | None, invite_token: str | None
) -> None:
    """Group packets open to the holder of the invite link (and the sender)."""
    if packet.audience != Audience.GROUP:
        return
    if user is not None and user.pk == packet.sender_id:
        return
    if invite_token and secrets.compare_digest(str(invite_token), packet.invite_token):
        return
    raise PacketForbidden()


def _expired(packet: RedPacket, now: datetime) -> bool:
    return packet.status == PacketStatus.EXPIRED_REFUNDED or (
        packet.status == PacketStatus.ACTIVE and packet.expires_at <= now
    )


def red_packet_claim(*, packet_id: int, user: User, invite_token: str | None = None) -> ClaimResult:
    """Grab one share. Codes: packet_not_found, packet_forbidden, packet_expired,
    packet_already_claimed, packet_finished, listen_required."""
    packet = RedPacket.objects.select_related("work").filter(pk=packet_id).first()
    if packet is None:
        raise PacketNotFound()
    red_packet_check_access(packet=packet, user=user, invite_token=invite_token)
    now = clock.now()
    # Cheap checks before the hot row; the transaction below re-checks all that matters.
    if RedPacketClaim.objects.filter(packet=packet, user=user).exists():
        raise PacketAlreadyClaimed()
    if _expired(packet, now):
        raise PacketExpired()
    if packet.status == PacketStatus.FINISHED:
        raise PacketFinished()
    if packet.condition == Condition.LISTENED_FULL and (
        packet.work is None or not play_completed(user=user, work=packet.work)
    ):
        raise ListenRequired()

    with transaction.atomic(durable=True):
        taken = RedPacket.objects.filter(
            pk=packet.pk,
            status=PacketStatus.ACTIVE,
            claimed_count__lt=F("count"),
            expires_at__gt=now,
        ).update(claimed_count=F("claimed_count") + 1, updated_at=now)
        if taken == 0:
            current = RedPacket.objects.get(pk=packet.pk)
            if _expired(current, now):
                raise PacketExpired()
            raise PacketFinished()
        # We hold the packet row lock until commit: this read is our own slot.
        seq, count = (
            RedPacket.objects.filter(pk=packet.pk).values_list("claimed_count", "count").get()
        )
        share = RedPacketShare.objects.get(packet_id=packet.pk, seq=seq)
        try:
            with transaction.atomic():
                RedPacketClaim.objects.create(
                    packet_id=packet.pk, user=user, share=share, amount_fen=share.amount_fen
                )
        except IntegrityError as exc:
            # Raised out of the durable block: the slot taken above rolls back with it.
            raise PacketAlreadyClaimed() from exc
        RedPacketShare.objects.filter(pk=share.pk).update(claimed_by=user, claimed_at=now)
        finished = seq == count
        updates: dict = {"claimed_fen": F("claimed_fen") + share.amount_fen}
        if finished:
            updates.update(status=PacketStatus.FINISHED, finished_at=now)
        RedPacket.objects.filter(pk=packet.pk).update(**updates)
        ledger_transfer(
            source=escrow_account_for(packet),
            destination=wallet_account_for_user(user=user, currency=CURRENCY),
            amount=Money(share.amount_fen, CURRENCY),
            reference=f"redpacket:{packet.pk}:claim:{user.pk}",
            kind=LEDGER_KIND_CLAIM,
            description=f"red packet {packet.pk}",
        )
        outbox_publish(
            topic=TOPIC_CLAIMED,
            payload={"packet_id": packet.pk, "user_id": user.pk, "amount_fen": share.amount_fen},
            key=str(packet.pk),
        )
        if finished:
            outbox_publish(
                topic=TOPIC_FINISHED, payload={"packet_id": packet.pk}, key=str(packet.pk)
            )
    luckiest = None
    if finished:
        packet.status = PacketStatus.FINISHED
        luckiest = red_packet_luckiest(packet)
    return ClaimResult(
        packet_id=packet.pk, amount_fen=share.amount_fen, finished=finished, luckiest=luckiest
    )


# --- expiry -----------------------------------------------------------------------------------


def _refund_one(*, packet_id: int, now: datetime) -> bool:
    with transaction.atomic(durable=True):
        packet = (
            RedPacket.objects.select_for_update()
            .filter(pk=packet_id, status=PacketStatus.ACTIVE, expires_at__lte=now)
            .first()
        )
        if packet is None:  # claimed out or refunded meanwhile
            return False
        unclaimed = (
            RedPacketShare.objects.filter(packet=packet, claimed_by__isnull=True).aggregate(
                total=Sum("amount_fen")
            )["total"]
            or 0
        )
        if unclaimed != packet.total_fen - packet.claimed_fen:
            raise RuntimeError(f"red packet {packet.pk}: unclaimed shares disagree with counters")
        if unclaimed:
            ledger_transfer(
                source=escrow_account_for(packet),
                destination=wallet_account_for_user(user=packet.sender, currency=CURRENCY),
                amount=Money(unclaimed, CURRENCY),
                reference=f"redpacket:{packet.pk}:refund",
                kind=LEDGER_KIND_REFUND,
                description=f"red packet {packet.pk} expired",
            )
        RedPacket.objects.filter(pk=packet.pk).update(
            status=PacketStatus.EXPIRED_REFUNDED,
            refunded_fen=unclaimed,
            refunded_at=now,
            updated_at=now,
        )
        outbox_publish(
            topic=TOPIC_REFUNDED,
            payload={"packet_id": packet.pk, "refunded_fen": unclaimed},
            key=str(packet.pk),
        )
    return True


def red_packet_expire_due(*, now: datetime | None = None, batch: int = 500) -> int:
    """Refund the unclaimed shares of active packets past ``expires_at``; returns how many.

    Safe to run twice or concurrently: each packet is refunded under its row lock, only while
    still active, and the ledger reference ``redpacket:<id>:refund`` is unique.
    """
    now = now or clock.now()
    done = 0
    while True:
        ids = list(
            RedPacket.objects.filter(status=PacketStatus.ACTIVE, expires_at__lte=now)
            .order_by("expires_at", "pk")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return done
        progressed = 0
        for packet_id in ids:
            if _refund_one(packet_id=packet_id, now=now):
                done += 1
                progressed += 1
        if progressed == 0 and len(ids) < batch:
            return done
