"""Reads of red packets."""

from __future__ import annotations

from django.db.models import QuerySet

from yaji.accounts.models import User
from yaji.redpackets.errors import PacketForbidden, PacketNotFound
from yaji.redpackets.models import Audience, RedPacket, RedPacketClaim
from yaji.redpackets.services import red_packet_check_access


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
