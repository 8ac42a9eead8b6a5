"""Reconciliation of red packets against themselves and the ledger (``yaji reconcile``).

Per packet, in one SQL statement per batch (one snapshot on PostgreSQL):

- the shares sum to ``total_fen``; claimed shares sum to ``claimed_fen``, and so do the claims;
  ``claimed_count`` equals the number of claims;
- an expired packet refunded exactly its unclaimed shares; other packets refunded nothing;
- the packet's escrow account holds ``total − claimed − refunded`` (0 once finished or refunded;
  0 while a payment-funded packet waits for its payment, and after it was cancelled unpaid).

And in total: all red-packet escrow balances sum to the open amount of the active packets.
"""

from __future__ import annotations

from datetime import timedelta

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

from yaji.core import clock
from yaji.ledger.models import AccountKind, LedgerAccount
from yaji.ledger.reconciliation import Discrepancy, Progress, reconciliation_check_register
from yaji.redpackets.gate import KEY_TTL_S, packet_gate
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
            if p.status in (PacketStatus.PENDING_PAYMENT, PacketStatus.CANCELLED):
                # Funded through a payment that has not arrived (or never did): its escrow
                # holds nothing and nothing was claimed (ADR 0042).
                open_fen = 0
            expected_refund = p.unclaimed_fen if p.status == PacketStatus.EXPIRED_REFUNDED else 0
            facts = [
                ("shares sum", p.total_fen, p.shares_fen),
                ("claimed shares", p.claimed_fen, p.claimed_shares_fen),
                ("claims sum", p.claimed_fen, p.claims_fen),
                ("claim count", p.claimed_count, p.claims_n),
                ("refunded", expected_refund, p.refunded_fen),
                ("escrow balance", open_fen, p.escrow_fen),
            ]
            if p.status in (PacketStatus.PENDING_PAYMENT, PacketStatus.CANCELLED):
                facts.append(("unfunded: nothing claimed", 0, p.claimed_count))
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


GATE_WINDOW = timedelta(seconds=KEY_TTL_S)


def check_red_packet_gate(progress: Progress) -> list[Discrepancy]:
    """With Redis configured: the gate of every packet it knows agrees with the database.

    For each packet of the last two days (the gate's key lifetime) that has gate keys, with C
    the gate's confirmed claimers, P its in-flight admissions, L its free slots and D the
    database's claimers:

    - C ⊆ D — otherwise the gate would answer "already claimed" to someone who has not;
    - D ⊆ C ∪ P — otherwise the gate would admit a claimer again (the database refuses);
    - active packets: L + |P ∖ D| = count − |D| (the remaining count); others: the gate is
      closed (``done``) or has no free slot left.

    On a quiet system P is empty; claims in flight while the check runs show up in P, never as
    a discrepancy.
    """
    gate = packet_gate()
    if gate is None:
        progress.start(0)
        return []
    found: list[Discrepancy] = []
    since = clock.now() - GATE_WINDOW
    packets = RedPacket.objects.filter(created_at__gte=since).order_by("pk")
    progress.start(packets.count())
    last = 0
    while True:
        rows = list(
            packets.filter(pk__gt=last).values("pk", "count", "status", "expires_at")[:BATCH]
        )
        if not rows:
            break
        states = {row["pk"]: gate.state(row["pk"]) for row in rows}
        claims: dict[int, set[int]] = {row["pk"]: set() for row in rows}
        for packet_id, user_id in RedPacketClaim.objects.filter(
            packet_id__in=list(claims)
        ).values_list("packet_id", "user_id"):
            claims[packet_id].add(user_id)
        now = clock.now()
        for row in rows:
            state, db = states[row["pk"]], claims[row["pk"]]
            if state.left is None:
                continue  # no gate for this packet: the next grab rebuilds it from the database
            subject = f"red packet #{row['pk']} gate"
            if state.claimed - db:
                found.append(
                    Discrepancy(
                        f"{subject} claimed but not in the database", "", _ids(state.claimed - db)
                    )
                )
            if db - state.claimed - state.pending:
                found.append(
                    Discrepancy(
                        f"{subject} database claims unknown to the gate",
                        _ids(db - state.claimed - state.pending),
                        "",
                    )
                )
            active = (
                row["status"] == PacketStatus.ACTIVE and row["expires_at"] > now and not state.done
            )
            gate_left = state.left + len(state.pending - db)
            if active and gate_left != row["count"] - len(db):
                found.append(
                    Discrepancy(f"{subject} remaining", str(row["count"] - len(db)), str(gate_left))
                )
            if (
                not active
                and row["status"] != PacketStatus.ACTIVE
                and not state.done
                and state.left > 0
            ):
                found.append(Discrepancy(f"{subject} still open", "closed", f"left={state.left}"))
        last = rows[-1]["pk"]
        progress.advance(len(rows))
    return found


def _ids(ids: set[int]) -> str:
    shown = sorted(ids)[:20]
    return ",".join(str(i) for i in shown) + ("…" if len(ids) > 20 else "")


def redpacket_checks_register() -> None:
    reconciliation_check_register(
        name="redpackets.packets",
        description="every red packet: shares, claims, refunds and escrow add up to its total",
        run=check_red_packets,
    )
    reconciliation_check_register(
        name="redpackets.gate",
        description="the Redis gate agrees with the database: claimed users and remaining count",
        run=check_red_packet_gate,
    )


__all__ = ["check_red_packet_gate", "check_red_packets", "redpacket_checks_register"]
