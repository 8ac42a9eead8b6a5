"""Writes of red packets: send, claim (grab), refund what expired.

Concurrency (ARCHITECTURE.md §3), correct on the database alone:

- shares are drawn at send time, so a claim only has to take the next slot and the refund is the
  sum of the unclaimed shares;
- a claim is one short durable transaction: a conditional UPDATE takes the next slot on the
  packet row (``claimed_count < count AND status = 'active' AND expires_at > now``; 0 rows means
  finished or expired), the claim row goes in under ``UNIQUE(packet, user)``, share ``seq =
  claimed_count`` is marked (unique index), and the ledger posts escrow → wallet. Any failure
  (a double claim's IntegrityError included) raises out of the transaction, so the slot it took
  is rolled back with it. On PostgreSQL everything after the slot is one statement of
  statement parts (ADR 0044, :func:`claim_writes`) and everything that does not need the row
  (the risk decision, the idempotency key's reservation) runs before it;
- lock order everywhere: the packet row first, then ledger accounts (``ledger_post`` locks them in
  primary-key order). Expiry locks the packet row too, so a late claim and the refund serialise.

Each packet has its own escrow account (kind ``redpacket_escrow``, owner_ref ``redpacket:<id>``):
no single hot escrow row across packets, and reconciliation proves per packet that escrow holds
exactly ``total − claimed − refunded``.

The sender may grab their own packet (as in WeChat groups); it is one claim like anyone's.

With Redis configured, the gate of :mod:`yaji.redpackets.gate` (ADR 0020) answers "all taken",
"already claimed" and "expired" before any query, and is told every database outcome (confirm,
release, close) so that it never turns anyone away wrongly. Risk control (:mod:`yaji.risk`,
ADR 0022) decides before money moves (``redpacket.send``, ``redpacket.claim``) and records each
movement inside its transaction. Audiences: public, group link, the sender's followers, same
city (a geohash cell and a radius; claimers' coordinates are checked, never stored).
"""

from __future__ import annotations

import logging
import random
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import Sum
from redis.exceptions import RedisError

from yaji.accounts.models import User
from yaji.community.models import Work
from yaji.community.selectors import follower_ids, is_follower, play_completed, work_get
from yaji.core import clock
from yaji.core.money import Money
from yaji.core.outbox import outbox_part, outbox_publish
from yaji.core.prepared import prepared_cursor
from yaji.core.sqlparts import (
    REQUIRED_MISSING,
    Part,
    SqlChain,
    SqlPart,
    sql_model_columns,
    sql_model_from_row,
    sql_part_execute,
    sql_parts_execute,
    sql_parts_execute_commit,
)
from yaji.ledger.models import AccountKind, LedgerAccount
from yaji.ledger.selectors import account_id_subselect, account_ref, wallet_id_subselect
from yaji.ledger.services import (
    account_for,
    ledger_transfer,
    ledger_transfer_part,
    wallet_account_for_user,
)
from yaji.moderation.services import moderation_check_text
from yaji.redpackets.errors import (
    AudienceUnreachable,
    BlessingRejected,
    FollowersOnly,
    ListenRequired,
    LocationRequired,
    OutOfRadius,
    PacketAlreadyClaimed,
    PacketAmountOutOfRange,
    PacketCancelled,
    PacketExpired,
    PacketFinished,
    PacketForbidden,
    PacketInvalid,
    PacketNotFound,
    PacketPendingPayment,
)
from yaji.redpackets.gate import PacketGate, Verdict, packet_gate
from yaji.redpackets.geo import geohash_encode, location_validate, within_radius
from yaji.redpackets.lucky_split import equal_split, lucky_split
from yaji.redpackets.models import (
    Audience,
    Condition,
    Funding,
    PacketStatus,
    RedPacket,
    RedPacketClaim,
    RedPacketShare,
    SplitType,
)
from yaji.risk.models import RiskDecision
from yaji.risk.services import (
    RiskReads,
    risk_activity_part,
    risk_activity_record,
    risk_check,
    risk_decision_part,
    risk_decision_record,
    risk_decision_recorded,
    risk_evaluate,
    risk_reads,
)

logger = logging.getLogger(__name__)

CURRENCY = "CNY"
LIFETIME = timedelta(hours=24)
# A hard ceiling of the product (10,000 yuan). The regulatory 5,000 yuan per packet and 10,000
# per day are risk rules (yaji.risk: single_limit, daily_limit), tunable by operators.
MAX_TOTAL_FEN = 1_000_000
BLESSING_MAX = 60
DEFAULT_RADIUS_M = 5_000
MIN_RADIUS_M = 500
MAX_RADIUS_M = 50_000

RISK_SEND = "redpacket.send"
RISK_CLAIM = "redpacket.claim"

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


def _audience_validate(
    *, sender: User, audience: str, lat: float | None, lng: float | None, radius_m: int | None
) -> tuple[str, int]:
    """Check the sender can reach ``audience``; returns (geohash, radius) for city packets."""
    if audience == Audience.FOLLOWERS and not follower_ids(sender).exists():
        raise AudienceUnreachable(extra={"audience": audience, "reason": "no followers"})
    if audience != Audience.CITY:
        return "", 0
    if lat is None or lng is None:
        raise LocationRequired()
    la, lo = location_validate(lat, lng)
    radius = DEFAULT_RADIUS_M if radius_m is None else radius_m
    if not isinstance(radius, int) or not MIN_RADIUS_M <= radius <= MAX_RADIUS_M:
        raise PacketInvalid(extra={"field": "radius_m", "min": MIN_RADIUS_M, "max": MAX_RADIUS_M})
    return geohash_encode(la, lo), radius


@dataclass(frozen=True, slots=True)
class SendPlan:
    """A send that passed every check that needs no money: what to write."""

    sender: User
    total_fen: int
    count: int
    split_type: str
    blessing: str
    work: Work | None
    condition: str
    audience: str
    geohash: str
    radius_m: int
    amounts: list[int]
    device: str
    ip: str | None


def red_packet_send_prepare(
    *,
    sender: User,
    total_fen: int,
    count: int,
    split_type: str,
    blessing: str = "",
    work_id: int | None = None,
    condition: str = Condition.NONE,
    audience: str = Audience.PUBLIC,
    lat: float | None = None,
    lng: float | None = None,
    radius_m: int | None = None,
    device: str = "",
    ip: str | None = None,
    rng: random.Random | None = None,
) -> SendPlan:
    """Validate a send, draw its shares and ask risk control (``redpacket.send``), which logs
    its decision even when it refuses (``risk_denied``, ``step_up_required``,
    ``account_frozen``). Writes nothing else: however the packet is funded, every rule has
    run before any money moves."""
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
    geohash, radius = _audience_validate(
        sender=sender, audience=audience, lat=lat, lng=lng, radius_m=radius_m
    )
    if blessing:
        # A blessing is published at once with money attached: anything moderation would
        # hold for review is refused here, not held.
        screen = moderation_check_text(blessing)
        if screen.status != "visible":
            raise BlessingRejected(extra={"status": screen.status, "reasons": list(screen.reasons)})
    risk_check(user=sender, action=RISK_SEND, amount_fen=total_fen, device=device, ip=ip)
    return SendPlan(
        sender=sender,
        total_fen=total_fen,
        count=count,
        split_type=split_type,
        blessing=blessing,
        work=work,
        condition=condition,
        audience=audience,
        geohash=geohash,
        radius_m=radius,
        amounts=amounts,
        device=device,
        ip=ip,
    )


def red_packet_create(
    plan: SendPlan,
    *,
    status: str,
    expires_at: datetime,
    pay_by: datetime | None = None,
    funded_at: datetime | None = None,
) -> RedPacket:
    """The packet, its shares and its escrow account (opened now, so no grab has to open
    it), inside the caller's transaction. The sending is recorded for risk control here:
    a packet waiting for its payment counts towards the day's limits like a paid one."""
    packet = RedPacket.objects.create(
        sender=plan.sender,
        total_fen=plan.total_fen,
        currency=CURRENCY,
        count=plan.count,
        split_type=plan.split_type,
        blessing=plan.blessing,
        work=plan.work,
        condition=plan.condition,
        audience=plan.audience,
        invite_token=secrets.token_urlsafe(24) if plan.audience == Audience.GROUP else "",
        geohash=plan.geohash,
        radius_m=plan.radius_m,
        status=status,
        funding=Funding.WALLET if pay_by is None else Funding.PAYMENT,
        pay_by=pay_by,
        funded_at=funded_at,
        expires_at=expires_at,
    )
    RedPacketShare.objects.bulk_create(
        [
            RedPacketShare(packet=packet, seq=seq, amount_fen=amount)
            for seq, amount in enumerate(plan.amounts, start=1)
        ]
    )
    escrow_account_for(packet)
    risk_activity_record(
        user=plan.sender,
        action=RISK_SEND,
        amount_fen=plan.total_fen,
        device=plan.device,
        ip=plan.ip,
        reference=f"redpacket:{packet.pk}",
    )
    return packet


def red_packet_publish_sent(packet: RedPacket) -> None:
    """The packet went live (its money is in escrow): the event, inside its transaction."""
    outbox_publish(
        topic=TOPIC_SENT,
        payload={
            "packet_id": packet.pk,
            "sender_id": packet.sender_id,
            "total_fen": packet.total_fen,
            "count": packet.count,
            "work_id": packet.work_id,
        },
        key=str(packet.pk),
    )


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
    lat: float | None = None,
    lng: float | None = None,
    radius_m: int | None = None,
    device: str = "",
    ip: str | None = None,
    rng: random.Random | None = None,
) -> RedPacket:
    """Draw the shares and move ``total_fen`` from the sender's wallet into the packet's escrow.

    Risk control decides first (:func:`red_packet_send_prepare`). Then one durable
    transaction: on any refusal (``insufficient_funds`` included) nothing is written. The
    Redis gate is initialised after commit. Paying through a provider instead:
    :func:`yaji.redpackets.payment_funding.red_packet_send_paid`.
    """
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
    now = clock.now()
    with transaction.atomic(durable=True):
        packet = red_packet_create(
            plan, status=PacketStatus.ACTIVE, expires_at=now + LIFETIME, funded_at=now
        )
        ledger_transfer(
            source=wallet_account_for_user(user=sender, currency=CURRENCY),
            destination=escrow_account_for(packet),
            amount=Money(total_fen, CURRENCY),
            reference=f"redpacket:{packet.pk}:fund",
            kind=LEDGER_KIND_FUND,
            description=f"red packet {packet.pk}",
        )
        red_packet_publish_sent(packet)
    # Committed (the block is durable): open the gate. A failure here only means the first
    # grab rebuilds the gate from the database.
    red_packet_gate_open(packet)
    return packet


# --- the Redis gate (gate.py) -----------------------------------------------------------------


def red_packet_gate_open(packet: RedPacket) -> None:
    gate = packet_gate()
    if gate is None:
        return
    try:
        gate.init(
            packet_id=packet.pk,
            left=packet.count,
            expires_at=packet.expires_at,
            open_access=packet.audience == Audience.PUBLIC,
        )
    except RedisError:
        logger.warning("red packet gate: init failed", extra={"packet_id": packet.pk})


def red_packet_gate_rebuild(*, packet_id: int) -> bool:
    """(Re)create a packet's gate from the database unless it exists; True if created.

    Races with claims committing meanwhile can only leave ``left`` too high (the next confirm
    or the database's "finished" corrects it), never too low: see gate.py.
    """
    gate = packet_gate()
    row = (
        RedPacket.objects.filter(pk=packet_id)
        .values("count", "status", "expires_at", "audience")
        .first()
    )
    if gate is None or row is None:
        return False
    if row["status"] in (PacketStatus.PENDING_PAYMENT, PacketStatus.CANCELLED):
        # Not live: no gate, the database answers. A pending packet's gate is opened when its
        # payment arrives, with the expiry it gets then (init never overwrites a gate).
        return False
    claimed = list(
        RedPacketClaim.objects.filter(packet_id=packet_id).values_list("user_id", flat=True)
    )
    done = {
        PacketStatus.ACTIVE: "",
        PacketStatus.FINISHED: "finished",
        PacketStatus.EXPIRED_REFUNDED: "expired",
    }[row["status"]]
    return gate.init(
        packet_id=packet_id,
        left=row["count"] - len(claimed),
        expires_at=row["expires_at"],
        open_access=row["audience"] == Audience.PUBLIC,
        done=done,
        claimed=claimed,
    )


def _gate_admit(
    gate: PacketGate, *, packet_id: int, user_id: int, now: datetime, access_checked: bool
) -> Verdict | None:
    try:
        verdict = gate.admit(
            packet_id=packet_id, user_id=user_id, now=now, access_checked=access_checked
        )
        if verdict == Verdict.MISSING:
            red_packet_gate_rebuild(packet_id=packet_id)
            verdict = gate.admit(
                packet_id=packet_id, user_id=user_id, now=now, access_checked=access_checked
            )
    except RedisError:
        logger.warning("red packet gate unavailable; the database decides alone")
        return None
    if verdict == Verdict.MISSING:
        # Unknown to the database (it will say so) or not live yet (pending payment): no gate.
        return verdict
    if verdict == Verdict.TAKEN:
        raise PacketFinished(extra={"gate": True})
    if verdict == Verdict.ALREADY:
        raise PacketAlreadyClaimed(extra={"gate": True})
    if verdict == Verdict.EXPIRED:
        raise PacketExpired(extra={"gate": True})
    return verdict


def _gate_after(gate: PacketGate | None, op: str, *, packet_id: int, user_id: int) -> None:
    if gate is None:
        return
    try:
        if op == "confirm":
            gate.confirm(packet_id=packet_id, user_id=user_id)
        elif op == "release":
            gate.release(packet_id=packet_id, user_id=user_id)
        else:
            gate.close(packet_id=packet_id, user_id=user_id, done=op)
    except RedisError:
        # A lost release is reclaimed after gate.STALE_MS; a lost confirm only costs this
        # user a trip to the database (which answers "already claimed").
        logger.warning("red packet gate: %s failed", op, extra={"packet_id": packet_id})


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
    *,
    packet: RedPacket,
    user: User | None,
    invite_token: str | None,
    lat: float | None = None,
    lng: float | None = None,
) -> None:
    """May ``user`` grab? Group: the invite link's holders; followers: the sender's followers;
    city: within the radius of the sender's cell (coordinates checked, never stored). The
    sender may always grab their own packet."""
    if packet.audience == Audience.PUBLIC:
        return
    if user is not None and user.pk == packet.sender_id:
        return
    if packet.audience == Audience.GROUP:
        if invite_token and secrets.compare_digest(str(invite_token), packet.invite_token):
            return
        raise PacketForbidden()
    if packet.audience == Audience.FOLLOWERS:
        if user is not None and is_follower(user, packet.sender_id):
            return
        raise FollowersOnly()
    if packet.audience == Audience.CITY:
        if lat is None or lng is None:
            raise LocationRequired()
        la, lo = location_validate(lat, lng)
        if not within_radius(packet.geohash, packet.radius_m, la, lo):
            raise OutOfRadius(extra={"radius_m": packet.radius_m})
        return
    raise PacketForbidden()


def _expired(packet: RedPacket, now: datetime) -> bool:
    return packet.status == PacketStatus.EXPIRED_REFUNDED or (
        packet.status == PacketStatus.ACTIVE and packet.expires_at <= now
    )


def red_packet_claim(
    *,
    packet_id: int,
    user: User,
    invite_token: str | None = None,
    lat: float | None = None,
    lng: float | None = None,
    device: str = "",
    ip: str | None = None,
    record: ClaimRecord | None = None,
) -> ClaimResult:
    """Grab one share. Codes: packet_not_found, packet_forbidden, followers_only,
    location_required, out_of_radius, packet_expired, packet_already_claimed, packet_finished,
    listen_required, and risk control's (risk_denied, account_frozen).

    With the Redis gate, "all taken" / "already claimed" / "expired" are answered before any
    database query; everything else is decided by the database transaction, and the gate is
    told the outcome (confirm / release / close) so it never turns anyone away wrongly.

    ``record`` writes with the claim, in its transaction (:class:`ClaimRecord`: the API's
    idempotency record, reserved before the packet row is locked, completed with the claim's
    writes); what it writes commits or rolls back with the claim.
    """
    now = clock.now()
    gate = packet_gate()
    verdict = (
        _gate_admit(gate, packet_id=packet_id, user_id=user.pk, now=now, access_checked=False)
        if gate is not None
        else None
    )
    asked = gate
    if verdict in (None, Verdict.MISSING):
        gate = None  # no gate state for this claim: nothing to confirm or release
    decision: RiskDecision | None = None
    try:
        risk = risk_reads(user=user, action=RISK_CLAIM, device=device, ip=ip)
        packet = _claim_read(packet_id=packet_id, user=user, risk=risk)
        if packet is None:
            raise PacketNotFound()
        red_packet_check_access(
            packet=packet, user=user, invite_token=invite_token, lat=lat, lng=lng
        )
        if asked is not None and (
            verdict == Verdict.CHECK
            or (verdict == Verdict.MISSING and packet.status == PacketStatus.ACTIVE)
        ):
            # CHECK: the gate needed the access check first. MISSING but live now: the payment
            # arrived between the gate's answer and this read, and its gate is opened (or
            # rebuilt) meanwhile — a claim past the gate would commit unknown to it.
            verdict = _gate_admit(
                asked, packet_id=packet_id, user_id=user.pk, now=now, access_checked=True
            )
            if verdict not in (None, Verdict.MISSING):
                gate = asked
        # Cheap checks before the hot row; the transaction below re-checks all that matters.
        if getattr(packet, "mine", False):
            raise PacketAlreadyClaimed()
        if packet.status == PacketStatus.PENDING_PAYMENT:
            raise PacketPendingPayment()
        if packet.status == PacketStatus.CANCELLED:
            raise PacketCancelled()
        if _expired(packet, now):
            raise PacketExpired()
        if packet.status == PacketStatus.FINISHED:
            raise PacketFinished()
        if packet.condition == Condition.LISTENED_FULL and (
            packet.work is None or not play_completed(user=user, work=packet.work)
        ):
            raise ListenRequired()
        decision = risk_evaluate(user=user, action=RISK_CLAIM, device=device, ip=ip, reads=risk)
        escrow, wallet = _claim_accounts(packet=packet, user=user)
        result = _claim_commit(
            packet=packet,
            user=user,
            now=now,
            device=device,
            ip=ip,
            decision=decision,
            escrow=escrow,
            wallet=wallet,
            record=record,
        )
    except BaseException as exc:
        if decision is not None:
            # Allowed, but the claim failed (its transaction, with the decision row, rolled
            # back, or never began): the decision is still logged, in its own transaction.
            try:
                risk_decision_record(decision=decision)
            except Exception:
                logger.exception("red packet claim: could not log the risk decision")
        if isinstance(exc, PacketAlreadyClaimed):
            _gate_after(gate, "confirm", packet_id=packet_id, user_id=user.pk)
        elif isinstance(exc, PacketFinished):
            _gate_after(gate, "finished", packet_id=packet_id, user_id=user.pk)
        elif isinstance(exc, PacketExpired):
            _gate_after(gate, "expired", packet_id=packet_id, user_id=user.pk)
        elif verdict == Verdict.ADMITTED:
            _gate_after(gate, "release", packet_id=packet_id, user_id=user.pk)
        raise
    _gate_after(gate, "confirm", packet_id=packet_id, user_id=user.pk)
    if result.finished:
        packet.status = PacketStatus.FINISHED
    return result


# The packet, the "already claimed" pre-check, the two ledger accounts' ids and risk control's
# reads for the grab (its rules' subqueries, ADR 0053), in one plain statement: no ORM compile
# on the hot path and one round trip for everything the grab reads before its transaction
# (ADR 0044). Portable SQL.
_CLAIM_READ = (
    "SELECT {columns}, EXISTS (SELECT 1 FROM redpackets_redpacketclaim c "
    "WHERE c.packet_id = p.id AND c.user_id = %s), {escrow}, {wallet}{risk} "
    "FROM redpackets_redpacket p WHERE p.id = %s"
)
_CLAIM_READ_EXTRA = 3  # mine, escrow id, wallet id (then the risk reads)


def _claim_read(*, packet_id: int, user: User, risk: RiskReads) -> RedPacket | None:
    """The packet with ``mine`` (the user has a claim on it), ``escrow_id`` and ``wallet_id``
    (None: not open yet) as attributes; its ``work`` loads on use (listen-to-grab packets).
    ``risk``'s values are stored in it (when the packet exists: else nothing is evaluated)."""
    escrow_sql, escrow_params = account_id_subselect(
        kind=AccountKind.REDPACKET_ESCROW, owner_ref=f"redpacket:{packet_id}", currency=CURRENCY
    )
    wallet_sql, wallet_params = wallet_id_subselect(user_id=user.pk, currency=CURRENCY)
    risk_sql = risk.sql
    sql = _CLAIM_READ.format(
        columns=sql_model_columns(RedPacket, "p"),
        escrow=escrow_sql,
        wallet=wallet_sql,
        risk=f", {risk_sql}" if risk_sql else "",
    )
    with prepared_cursor() as cursor:  # the same text grab after grab (ADR 0058)
        cursor.execute(sql, [user.pk, *escrow_params, *wallet_params, *risk.params, packet_id])
        row = cursor.fetchone()
    if row is None:
        return None
    packet = sql_model_from_row(RedPacket, row)
    assert isinstance(packet, RedPacket)
    start = len(RedPacket._meta.concrete_fields)
    packet.mine, packet.escrow_id, packet.wallet_id = row[start : start + _CLAIM_READ_EXTRA]  # type: ignore[attr-defined]
    risk.store(row[start + _CLAIM_READ_EXTRA :])
    return packet


def _claim_accounts(*, packet: RedPacket, user: User) -> tuple[LedgerAccount, LedgerAccount]:
    """The packet's escrow and the claimer's wallet from :func:`_claim_read`'s ids (opened
    here, before the transaction, if they are not yet: the wallet on a first grab)."""
    escrow_id = getattr(packet, "escrow_id", None)
    wallet_id = getattr(packet, "wallet_id", None)
    return (
        account_ref(account_id=escrow_id, currency=CURRENCY)
        if escrow_id
        else escrow_account_for(packet),
        account_ref(account_id=wallet_id, currency=CURRENCY)
        if wallet_id
        else wallet_account_for_user(user=user, currency=CURRENCY),
    )


# The slot, the packet's running total, (for the last share) its end, and the share the slot
# stands for, in one statement: the hot row is locked by this UPDATE until commit, so the
# statements after it are kept few (the claim, the ledger posting, the events). RETURNING sees
# the row as updated, so ``claimed_count`` there is the slot taken (PostgreSQL; SQLite ≥ 3.35).
CLAIM_SLOT = (
    "UPDATE redpackets_redpacket SET "
    "claimed_count = claimed_count + 1, "
    "claimed_fen = claimed_fen + (SELECT s.amount_fen FROM redpackets_redpacketshare s "
    "WHERE s.packet_id = redpackets_redpacket.id AND s.seq = redpackets_redpacket.claimed_count + 1), "
    "status = CASE WHEN claimed_count + 1 = count THEN %s ELSE status END, "
    "finished_at = CASE WHEN claimed_count + 1 = count THEN %s ELSE finished_at END, "
    "updated_at = %s "
    "WHERE id = %s AND status = %s AND claimed_count < count AND expires_at > %s "
    "RETURNING claimed_count, count, "
    "(SELECT s.id FROM redpackets_redpacketshare s "
    "WHERE s.packet_id = redpackets_redpacket.id AND s.seq = redpackets_redpacket.claimed_count), "
    "(SELECT s.amount_fen FROM redpackets_redpacketshare s "
    "WHERE s.packet_id = redpackets_redpacket.id AND s.seq = redpackets_redpacket.claimed_count)"
)


# The claim's own rows after the slot, as statement parts (PostgreSQL, ADR 0044).
# RETURNING: the statement's result reads the claim first, so a double claim fails on its
# unique constraint before the ledger's guard is evaluated (a replayed posting reference).
# The share's mark takes its values from the claim row (one part, two CTEs): three parameters
# fewer, which keeps the whole statement within psycopg's parse cache (at most 50 parameters
# and 4096 bytes; above that every grab re-parses its ~2 KB of SQL, ADR 0053).
_CLAIM_AND_MARK = SqlChain(
    ctes=(
        (
            "claim",
            "(INSERT INTO redpackets_redpacketclaim "
            "(packet_id, user_id, share_id, amount_fen, created_at) "
            "VALUES (%s, %s, %s, %s, %s) RETURNING id, user_id, share_id, created_at)",
        ),
        (
            "mark",
            "(UPDATE redpackets_redpacketshare s SET claimed_by_id = c.user_id, "
            "claimed_at = c.created_at FROM {p}claim c WHERE s.id = c.share_id)",
        ),
    ),
    params=(),
    result="(SELECT id FROM {p}claim)",
)
_CLAIM_ONCE = "redpacket_claim_once"


class ClaimRecord(Protocol):
    """What the caller writes in the claim's transaction (the API: the idempotency key's
    record, ADR 0044), as statement parts: one reserved before the hot row, one completed
    with the claim's own writes. ``reserved`` gets the reservation's result and may raise
    (the claim then rolls back)."""

    def reserve(self) -> SqlPart | None: ...

    def reserved(self, value: Any) -> None: ...

    def complete(self, result: ClaimResult) -> SqlPart | None: ...


@dataclass(frozen=True, slots=True)
class ClaimWrites:
    """Everything one claim writes after taking its slot, in the order it is written."""

    parts: list[Part]
    ledger_index: int  # where the ledger posting's part is (its result: the transaction id)


def claim_writes(
    *,
    packet_id: int,
    user_id: int,
    share_id: int,
    amount: int,
    finished: bool,
    escrow: LedgerAccount,
    wallet: LedgerAccount,
    device: str,
    ip: str | None,
    now: datetime,
    extra: SqlPart | None = None,
) -> ClaimWrites:
    """The claim row, the share's mark, the escrow → wallet posting (the ledger's part), the
    risk activity, the events and ``extra`` (the idempotency record): one statement on
    PostgreSQL. The bench's ceiling (yaji/bench/scenarios/redpackets.py) runs these same parts,
    so what it measures is this transaction's database work."""
    parts: list[Part] = [
        replace(_CLAIM_AND_MARK, params=(packet_id, user_id, share_id, amount, now)),
        ledger_transfer_part(
            source=escrow,
            destination=wallet,
            amount=Money(amount, CURRENCY),
            reference=f"redpacket:{packet_id}:claim:{user_id}",
            kind=LEDGER_KIND_CLAIM,
            description=f"red packet {packet_id}",
        ),
        risk_activity_part(
            user_id=user_id,
            action=RISK_CLAIM,
            amount_fen=amount,
            device=device,
            ip=ip,
            reference=f"redpacket:{packet_id}",
        ),
        outbox_part(
            topic=TOPIC_CLAIMED,
            payload={"packet_id": packet_id, "user_id": user_id, "amount_fen": amount},
            key=str(packet_id),
        ),
    ]
    if finished:
        parts.append(
            outbox_part(topic=TOPIC_FINISHED, payload={"packet_id": packet_id}, key=str(packet_id))
        )
    if extra is not None:
        parts.append(extra)
    return ClaimWrites(parts=parts, ledger_index=1)


def claim_slot_params(*, packet_id: int, now: datetime) -> list[Any]:
    return [PacketStatus.FINISHED, now, now, packet_id, PacketStatus.ACTIVE, now]


def claim_luckiest_last(*, cursor: Any, packet_id: int, user_id: int, amount: int) -> Luckiest:
    """The luckiest of a packet whose last share this claim just took (its own claim row is not
    written yet): every other claim committed before this one got the packet row (each held it
    until commit), so they are all visible now; ties go to the earlier claim."""
    cursor.execute(_LUCKIEST_OTHER, [packet_id])
    row = cursor.fetchone()
    if row is not None and row[1] >= amount:
        return Luckiest(user_id=row[0], amount_fen=row[1])
    return Luckiest(user_id=user_id, amount_fen=amount)


_LUCKIEST_OTHER = (
    "SELECT user_id, amount_fen FROM redpackets_redpacketclaim WHERE packet_id = %s "
    "ORDER BY amount_fen DESC, id LIMIT 1"
)


def _constraint_name(exc: IntegrityError) -> str:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) or ""


def _claim_commit(
    *,
    packet: RedPacket,
    user: User,
    now: datetime,
    device: str,
    ip: str | None,
    decision: RiskDecision,
    escrow: LedgerAccount,
    wallet: LedgerAccount,
    record: ClaimRecord | None,
) -> ClaimResult:
    """One durable transaction. Everything that does not need the packet row comes first (the
    risk decision, the idempotency key's reservation); then the slot ``UPDATE`` takes the row;
    then, on PostgreSQL, one statement writes all the rest (:func:`claim_writes`) and goes with
    the COMMIT that releases the row in one round trip (ADR 0049): two round trips hold it
    (three for the last share, which reads the luckiest). SQLite (one writer at a time) runs
    the same writes through the ORM."""
    postgres = connection.vendor == "postgresql"
    # Prepared statements (ADR 0058), as the bench's ceiling sends them.
    with transaction.atomic(durable=True), prepared_cursor() as cursor:
        reserve = record.reserve() if record is not None else None
        if postgres:
            before = [risk_decision_part(decision=decision), *([reserve] if reserve else [])]
            values = sql_parts_execute(cursor, before)
            risk_decision_recorded(decision=decision, pk=values[0])
            if reserve is not None:
                record.reserved(values[1])  # type: ignore[union-attr]
        else:
            risk_decision_record(decision=decision)
            if reserve is not None:
                record.reserved(sql_part_execute(cursor, reserve))  # type: ignore[union-attr]
        cursor.execute(CLAIM_SLOT, claim_slot_params(packet_id=packet.pk, now=now))
        slot = cursor.fetchone()
        if slot is None:
            current = RedPacket.objects.get(pk=packet.pk)
            if _expired(current, now):
                raise PacketExpired()
            raise PacketFinished()
        seq, count, share_id, amount = slot
        finished = seq == count
        luckiest = (
            claim_luckiest_last(cursor=cursor, packet_id=packet.pk, user_id=user.pk, amount=amount)
            if finished
            else None
        )
        result = ClaimResult(
            packet_id=packet.pk, amount_fen=amount, finished=finished, luckiest=luckiest
        )
        complete = record.complete(result) if record is not None else None
        if postgres:
            writes = claim_writes(
                packet_id=packet.pk,
                user_id=user.pk,
                share_id=share_id,
                amount=amount,
                finished=finished,
                escrow=escrow,
                wallet=wallet,
                device=device,
                ip=ip,
                now=now,
                extra=complete,
            )
            if _outermost_transaction():
                _claim_writes_commit(writes=writes, cursor=cursor, packet=packet)
            else:
                _claim_writes_run(
                    writes=writes,
                    cursor=cursor,
                    packet=packet,
                    user=user,
                    escrow=escrow,
                    wallet=wallet,
                    amount=amount,
                )
        else:
            _claim_write_orm(
                packet=packet,
                user=user,
                share_id=share_id,
                amount=amount,
                finished=finished,
                escrow=escrow,
                wallet=wallet,
                device=device,
                ip=ip,
                now=now,
            )
            if complete is not None:
                sql_part_execute(cursor, complete)
    return result


def _outermost_transaction() -> bool:
    """The claim's durable block is the connection's real transaction (not a savepoint in an
    outer one, as under a test's transaction), so committing it early commits only the claim."""
    return (
        len(connection.atomic_blocks) == 1
        and connection.commit_on_exit
        and not connection.savepoint_ids
    )


def _claim_writes_commit(*, writes: ClaimWrites, cursor: Any, packet: RedPacket) -> None:
    """The writes and the COMMIT in one round trip: the packet row's lock is released by the
    commit the same trip carries (ADR 0049). Nothing can be checked in Python in between, so the
    database checks that the ledger's part wrote its posting; Django's own commit at the end of
    the durable block then finds nothing to commit."""
    try:
        with connection.wrap_database_errors:
            sql_parts_execute_commit(
                connection.connection, cursor, writes.parts, required=writes.ledger_index
            )
    except IntegrityError as exc:
        # The whole statement failed, nothing committed: raising out of the durable block
        # rolls the slot back with it.
        if _constraint_name(exc) == _CLAIM_ONCE:
            raise PacketAlreadyClaimed() from exc
        raise
    except DataError as exc:
        # The ledger's part wrote nothing (it never does for a consistent packet: an unknown
        # account, insufficient escrow, the reference already posted): the guard failed the
        # statement and the claim rolls back.
        if getattr(exc.__cause__, "sqlstate", None) != REQUIRED_MISSING:
            raise
        raise RuntimeError(f"red packet {packet.pk}: the claim's posting failed") from exc


def _claim_writes_run(
    *,
    writes: ClaimWrites,
    cursor: Any,
    packet: RedPacket,
    user: User,
    escrow: LedgerAccount,
    wallet: LedgerAccount,
    amount: int,
) -> None:
    """The writes as one statement, the commit left to the durable block (inside an outer
    transaction: a test's)."""
    try:
        values = sql_parts_execute(cursor, writes.parts)
    except IntegrityError as exc:
        if _constraint_name(exc) == _CLAIM_ONCE:
            raise PacketAlreadyClaimed() from exc
        raise
    if values[writes.ledger_index] is None:
        # The ledger's part wrote nothing (it never does for a consistent packet): its ORM
        # path says why, raising; the claim rolls back.
        _claim_post_orm(packet=packet, user=user, escrow=escrow, wallet=wallet, amount=amount)
        raise RuntimeError(f"red packet {packet.pk}: claim posting replayed")


def _claim_post_orm(
    *, packet: RedPacket, user: User, escrow: LedgerAccount, wallet: LedgerAccount, amount: int
) -> None:
    ledger_transfer(
        source=escrow,
        destination=wallet,
        amount=Money(amount, CURRENCY),
        reference=f"redpacket:{packet.pk}:claim:{user.pk}",
        kind=LEDGER_KIND_CLAIM,
        description=f"red packet {packet.pk}",
    )


def _claim_write_orm(
    *,
    packet: RedPacket,
    user: User,
    share_id: int,
    amount: int,
    finished: bool,
    escrow: LedgerAccount,
    wallet: LedgerAccount,
    device: str,
    ip: str | None,
    now: datetime,
) -> None:
    """:func:`claim_writes` through the ORM, one statement after another (SQLite)."""
    try:
        # No savepoint: a double claim fails the whole transaction, which is raised out
        # of the durable block, so the slot taken above rolls back with it.
        RedPacketClaim.objects.create(
            packet_id=packet.pk, user=user, share_id=share_id, amount_fen=amount
        )
    except IntegrityError as exc:
        raise PacketAlreadyClaimed() from exc
    RedPacketShare.objects.filter(pk=share_id).update(claimed_by=user, claimed_at=now)
    _claim_post_orm(packet=packet, user=user, escrow=escrow, wallet=wallet, amount=amount)
    risk_activity_record(
        user=user,
        action=RISK_CLAIM,
        amount_fen=amount,
        device=device,
        ip=ip,
        reference=f"redpacket:{packet.pk}",
    )
    outbox_publish(
        topic=TOPIC_CLAIMED,
        payload={"packet_id": packet.pk, "user_id": user.pk, "amount_fen": amount},
        key=str(packet.pk),
    )
    if finished:
        outbox_publish(topic=TOPIC_FINISHED, payload={"packet_id": packet.pk}, key=str(packet.pk))


# --- expiry -----------------------------------------------------------------------------------


def _refund_one(*, packet_id: int, now: datetime) -> bool:
    gate = packet_gate()
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
    _gate_after(gate, "expired", packet_id=packet_id, user_id=0)  # committed: close the gate
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
