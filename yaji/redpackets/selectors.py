"""Reads of red packets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import ExtractHour

from yaji.accounts.models import User
from yaji.core import clock
from yaji.redpackets.errors import PacketForbidden, PacketNotFound
from yaji.redpackets.models import Audience, GiftSend, PacketStatus, RedPacket, RedPacketClaim
from yaji.redpackets.services import red_packet_check_access
from yaji.risk.selectors import risk_decisions_by_outcome


def red_packet_get(*, packet_id: int) -> RedPacket:
    packet = RedPacket.objects.select_related("sender", "work").filter(pk=packet_id).first()
    if packet is None:
        raise PacketNotFound()
    return packet


def red_packet_get_visible(
    *, packet_id: int, user: User | None, invite_token: str | None = None
) -> RedPacket:
    """The packet if ``user`` may see it: public packets to all; group packets to the sender,
    the holders of the invite link and those who already claimed."""
    packet = red_packet_get(packet_id=packet_id)
    if packet.audience == Audience.GROUP:
        try:
            red_packet_check_access(packet=packet, user=user, invite_token=invite_token)
        except PacketForbidden:
            if user is None or not RedPacketClaim.objects.filter(packet=packet, user=user).exists():
                raise
    return packet


def red_packet_claims(*, packet: RedPacket) -> QuerySet[RedPacketClaim]:
    return RedPacketClaim.objects.filter(packet=packet).select_related("user").order_by("id")


def red_packets_sent(*, user: User, limit: int = 50) -> QuerySet[RedPacket]:
    return RedPacket.objects.filter(sender=user).order_by("-created_at", "-pk")[:limit]


def red_packets_received(*, user: User, limit: int = 50) -> QuerySet[RedPacketClaim]:
    return (
        RedPacketClaim.objects.filter(user=user)
        .select_related("packet", "packet__sender")
        .order_by("-created_at", "-pk")[:limit]
    )


def red_packets_for_work(*, work_id: int, user: User | None, limit: int = 5) -> QuerySet[RedPacket]:
    """Active public packets bound to a work (the play page's "listen and grab" panel)."""
    return RedPacket.objects.filter(
        work_id=work_id,
        status=PacketStatus.ACTIVE,
        audience=Audience.PUBLIC,
        expires_at__gt=clock.now(),
    ).order_by("-created_at", "-pk")[:limit]


def claimed_ids(user: User | None, packets: list[RedPacket]) -> set[int]:
    if user is None or not user.is_authenticated or not packets:
        return set()
    return set(
        RedPacketClaim.objects.filter(user=user, packet__in=packets).values_list(
            "packet_id", flat=True
        )
    )


# --- operators' analytics ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HourRow:
    hour: int  # 0–23, local time
    sent_n: int
    sent_fen: int
    claimed_n: int
    claimed_fen: int


@dataclass(frozen=True, slots=True)
class HourlyReport:
    hours: list[HourRow]
    gift_top: list[tuple[str, int, int]]  # creator name, creator fen, gifts
    risk_by_outcome: list[tuple[str, int]]


def red_packet_hourly(*, days: int = 7) -> HourlyReport:
    """Sends and grabs per local hour of day over the last ``days`` days (four GROUP BYs)."""
    since = clock.now() - timedelta(days=days)
    tz = ZoneInfo(settings.TIME_ZONE)

    def by_hour(qs, amount: str) -> dict[int, tuple[int, int]]:  # type: ignore[no-untyped-def]
        rows = (
            qs.filter(created_at__gte=since)
            .annotate(h=ExtractHour("created_at", tzinfo=tz))
            .values("h")
            .annotate(n=Count("id"), s=Sum(amount))
            .order_by("h")
        )
        return {row["h"]: (row["n"], row["s"] or 0) for row in rows}

    sent = by_hour(RedPacket.objects.all(), "total_fen")
    claimed = by_hour(RedPacketClaim.objects.all(), "amount_fen")
    hours = [
        HourRow(h, *sent.get(h, (0, 0)), *claimed.get(h, (0, 0)))  # type: ignore[call-arg]
        for h in range(24)
    ]
    top = (
        GiftSend.objects.filter(created_at__gte=since)
        .values("creator_id", "creator__display_name")
        .annotate(s=Sum("creator_fen"), n=Count("id"))
        .order_by("-s")[:10]
    )
    gift_top = [
        (row["creator__display_name"] or f"#{row['creator_id']}", row["s"] or 0, row["n"])
        for row in top
    ]
    return HourlyReport(
        hours=hours, gift_top=gift_top, risk_by_outcome=risk_decisions_by_outcome(since=since)
    )
