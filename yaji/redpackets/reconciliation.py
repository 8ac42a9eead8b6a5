"""Reconciliation of red packets against themselves and the ledger (``yaji reconcile``).

Per packet, in one SQL statement per batch (one snapshot on PostgreSQL):

- the shares sum to ``total_fen``; claimed shares sum to ``claimed_fen``, and so do the claims;
  ``claimed_count`` equals the number of claims;
- an expired packet refunded exactly its unclaimed shares; other packets refunded nothing;
- the packet's escrow account holds ``total − claimed − refunded`` (0 once finished or refunded).

And in total: all red-packet escrow balances sum to the open amount of the active packets.
"""

from __future__ import annotations

from django.db.models import (
    BigIntegerField,
    CharField,
    Count,
    IntegerField,
    OuterRef,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Concat

from yaji.ledger.models import AccountKind, LedgerAccount
from yaji.ledger.reconciliation import Discrepancy, Progress, reconciliation_check_register
from yaji.redpackets.models import PacketStatus, RedPacket, RedPacketClaim, RedPacketShare

BATCH = 1000


def _sum(qs, field: str):  # type: ignore[no-untyped-def]
    return Coalesce(
        Subquery(
            qs.order_by().values("packet_id").annotate(s=Sum(field)).values("s")[:1],
            output_field=BigIntegerField(),
        ),
        Value(0),
        output_field=BigIntegerField(),
    )


def _annotated():  # type: ignore[no-untyped-def]
    shares = RedPacketShare.objects.filter(packet_id=OuterRef("pk"))
    claims = RedPacketClaim.objects.filter(packet_id=OuterRef("pk"))
    escrow = LedgerAccount.objects.filter(
        kind=AccountKind.REDPACKET_ESCROW,
        owner__isnull=True,
        owner_ref=Concat(Value("redpacket:"), Cast(OuterRef("pk"), CharField())),
    )
    return RedPacket.objects.annotate(
        shares_fen=_sum(shares, "amount_fen"),
        claimed_shares_fen=_sum(shares.filter(claimed_by__isnull=False), "amount_fen"),
        unclaimed_fen=_sum(shares.filter(claimed_by__isnull=True), "amount_fen"),
        claims_fen=_sum(claims, "amount_fen"),
        claims_n=Coalesce(
            Subquery(
                claims.order_by().values("packet_id").annotate(n=Count("id")).values("n")[:1],
                output_field=IntegerField(),
            ),
            Value(0),
        ),
        escrow_fen=Coalesce(
            Subquery(escrow.values("balance")[:1], output_field=BigIntegerField()),
            Value(0),
            output_field=BigIntegerField(),
        ),
    )


def check_red_packets(progress: Progress) -> list[Discrepancy]:
    found: list[Discrepancy] = []
    total = RedPacket.objects.count()
    progress.start(total)
    last = 0
    while True:
        rows = list(_annotated().filter(pk__gt=last).order_by("pk")[:BATCH])
        if not rows:
            break
        for p in rows:
            subject = f"red packet #{p.pk}"
            open_fen = p.total_fen - p.claimed_fen - p.refunded_fen
            expected_refund = p.unclaimed_fen if p.status == PacketStatus.EXPIRED_REFUNDED else 0
            facts = [
                ("shares sum", p.total_fen, p.shares_fen),
                ("claimed shares", p.claimed_fen, p.claimed_shares_fen),
                ("claims sum", p.claimed_fen, p.claims_fen),
                ("claim count", p.claimed_count, p.claims_n),
                ("refunded", expected_refund, p.refunded_fen),
                ("escrow balance", open_fen, p.escrow_fen),
            ]
            if p.status == PacketStatus.FINISHED:
                facts.append(("finished: all claimed", p.count, p.claimed_count))
            for what, expected, actual in facts:
                if expected != actual:
                    found.append(
                        Discrepancy(
                            subject=f"{subject} {what}", expected=str(expected), actual=str(actual)
                        )
                    )
        last = rows[-1].pk
        progress.advance(len(rows))

    escrow_total = (
        LedgerAccount.objects.filter(kind=AccountKind.REDPACKET_ESCROW).aggregate(s=Sum("balance"))[
            "s"
        ]
        or 0
    )
    active = RedPacket.objects.filter(status=PacketStatus.ACTIVE).aggregate(
        total=Sum("total_fen"), claimed=Sum("claimed_fen"), refunded=Sum("refunded_fen")
    )
    open_total = (active["total"] or 0) - (active["claimed"] or 0) - (active["refunded"] or 0)
    if escrow_total != open_total:
        found.append(
            Discrepancy(
                subject="red packet escrow (all accounts)",
                expected=str(open_total),
                actual=str(escrow_total),
            )
        )
    return found


def redpacket_checks_register() -> None:
    reconciliation_check_register(
        name="redpackets.packets",
        description="every red packet: shares, claims, refunds and escrow add up to its total",
        run=check_red_packets,
    )


__all__ = ["check_red_packets", "redpacket_checks_register"]
