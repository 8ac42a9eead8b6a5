"""Reads of red packets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import ExtractHour

from yaji.accounts.models import User
from yaji.core import clock
from yaji.redpackets.errors import PacketForbidden, PacketNotFound
from yaji.redpackets.models import Audience, GiftSend, PacketStatus, RedPacket, RedPacketClaim
from yaji.redpackets.services import red_packet_check_access
from yaji.risk.selectors import risk_decisions_by_rule


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


# --- operators' dashboard charts (one statement per chart) ------------------------------------

# Amount buckets in fen: [lower, upper); the last one is open.
AMOUNT_EDGES: tuple[int, ...] = (1, 100, 500, 1_000, 5_000, 10_000, 50_000)
# Claim latency buckets in seconds: [lower, upper); the last one is open.
LATENCY_EDGES: tuple[int, ...] = (0, 10, 60, 300, 1_800, 7_200, 86_400)


@dataclass(frozen=True, slots=True)
class Histogram:
    edges: tuple[int, ...]
    counts: list[int]  # one per edge: [edges[i], edges[i+1]) and the last open

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True, slots=True)
class Latency:
    histogram: Histogram
    avg_s: float | None
    max_s: float | None

    def percentile_bucket(self, p: float) -> int | None:
        """Index of the bucket holding the ``p``-th percentile claim (None without claims)."""
        total = self.histogram.total
        if not total:
            return None
        rank = max(1, -(-total * p // 100))  # ceil, at least the first claim
        seen = 0
        for i, n in enumerate(self.histogram.counts):
            seen += n
            if seen >= rank:
                return i
        return len(self.histogram.counts) - 1


@dataclass(frozen=True, slots=True)
class Dashboard:
    hours: list[HourRow]
    packet_totals: Histogram
    claim_shares: Histogram
    latency: Latency
    risk_by_rule: list[tuple[str, str, int]]
    gift_top: list[tuple[str, int, int]]


def _bucket_counts(field: str, edges: tuple[int, ...], scale=None) -> dict:  # type: ignore[no-untyped-def]
    out = {}
    for i, lo in enumerate(edges):
        lo_v = scale(lo) if scale else lo
        cond = Q(**{f"{field}__gte": lo_v})
        if i + 1 < len(edges):
            hi_v = scale(edges[i + 1]) if scale else edges[i + 1]
            cond &= Q(**{f"{field}__lt": hi_v})
        out[f"b{i}"] = Count("id", filter=cond)
    return out


def _histogram(qs, field: str, edges: tuple[int, ...]) -> Histogram:  # type: ignore[no-untyped-def]
    row = qs.aggregate(**_bucket_counts(field, edges))
    return Histogram(edges, [row[f"b{i}"] for i in range(len(edges))])


def _funded_packets() -> QuerySet[RedPacket]:
    """Packets whose money reached escrow: waiting for a payment or cancelled unpaid was
    never "sent" for the charts (ADR 0042)."""
    return RedPacket.objects.exclude(
        status__in=(PacketStatus.PENDING_PAYMENT, PacketStatus.CANCELLED)
    )


def red_packet_hourly_one_query(*, since) -> list[HourRow]:  # type: ignore[no-untyped-def]
    """Sends and grabs per local hour in one statement (a UNION ALL of two GROUP BYs)."""
    tz = ZoneInfo(settings.TIME_ZONE)

    def part(qs, kind: str, amount: str):  # type: ignore[no-untyped-def]
        return (
            qs.filter(created_at__gte=since)
            .annotate(h=ExtractHour("created_at", tzinfo=tz))
            .values("h")
            .annotate(k=Value(kind), n=Count("id"), s=Sum(amount))
            .values_list("h", "k", "n", "s")
            .order_by()
        )

    rows = part(_funded_packets(), "sent", "total_fen").union(
        part(RedPacketClaim.objects.all(), "claimed", "amount_fen"), all=True
    )
    found: dict[tuple[int, str], tuple[int, int]] = {}
    for h, kind, n, s in rows:
        found[(h, kind)] = (n, s or 0)
    return [
        HourRow(h, *found.get((h, "sent"), (0, 0)), *found.get((h, "claimed"), (0, 0)))  # type: ignore[call-arg]
        for h in range(24)
    ]


def red_packet_claim_latency(*, since) -> Latency:  # type: ignore[no-untyped-def]
    """Time from a packet's send to each of its claims, bucketed, with mean and max (one
    statement)."""
    qs = RedPacketClaim.objects.filter(created_at__gte=since).annotate(
        lat=ExpressionWrapper(
            F("created_at") - F("packet__created_at"), output_field=DurationField()
        )
    )
    row = qs.aggregate(
        avg=Avg("lat"),
        mx=Max("lat"),
        **_bucket_counts("lat", LATENCY_EDGES, scale=lambda s: timedelta(seconds=s)),
    )
    hist = Histogram(LATENCY_EDGES, [row[f"b{i}"] for i in range(len(LATENCY_EDGES))])

    def seconds(v) -> float | None:  # type: ignore[no-untyped-def]
        if v is None:
            return None
        return v.total_seconds() if isinstance(v, timedelta) else float(v) / 1_000_000

    return Latency(hist, seconds(row["avg"]), seconds(row["mx"]))


def gift_revenue_top(*, since, limit: int = 10) -> list[tuple[str, int, int]]:  # type: ignore[no-untyped-def]
    top = (
        GiftSend.objects.filter(created_at__gte=since)
        .values("creator_id", "creator__display_name")
        .annotate(s=Sum("creator_fen"), n=Count("id"))
        .order_by("-s", "creator_id")[:limit]
    )
    return [
        (row["creator__display_name"] or f"#{row['creator_id']}", row["s"] or 0, row["n"])
        for row in top
    ]


def red_packet_dashboard(*, days: int = 7) -> Dashboard:
    """Everything the operators' charts show over the last ``days`` days: six statements."""
    since = clock.now() - timedelta(days=days)
    return Dashboard(
        hours=red_packet_hourly_one_query(since=since),
        packet_totals=_histogram(
            _funded_packets().filter(created_at__gte=since), "total_fen", AMOUNT_EDGES
        ),
        claim_shares=_histogram(
            RedPacketClaim.objects.filter(created_at__gte=since), "amount_fen", AMOUNT_EDGES
        ),
        latency=red_packet_claim_latency(since=since),
        risk_by_rule=risk_decisions_by_rule(since=since),
        gift_top=gift_revenue_top(since=since),
    )
