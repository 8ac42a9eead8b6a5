"""``yaji bench redpackets``: many users grabbing shares over ``POST /api/v1/red-packets/{id}/claim``.

Cases (``requests`` = N grabs, each by a distinct user):

- ``hot``: every grab in flight contends for the same packet row. A packet holds at most
  ``MAX_COUNT`` (200) shares, so N grabs drain ⌈N/200⌉ full packets one after another
  (grab i takes packet ⌊i/200⌋);
- ``spread``: ⌈N/10⌉ packets × 10 shares, grab i goes to packet i mod P;
- ``sold-out``: one packet with S = min(⌈N/20⌉, 200) shares. S other users drain it with real
  grabs during the (untimed) warm-up, after every grabber's token was seen twice by the API's
  authentication (in the bench process: it caches the token's entry, ADR 0036); then N users
  who hold no claim grab it and only those answers are timed: each is ``409 packet_finished``
  ("all taken"), the path the Redis gate (and the fast path, ADR 0043) turns away before the
  database. The drain's grabs are checked with the rest (claims, answers, reconciliation).

Ceiling: the same claim transaction as raw SQL — the very statements ``red_packet_claim``
sends, built by the same functions (ADR 0044): the risk decision with the idempotency key's
reservation, the slot update on the packet row, the claim's writes in one statement (claim,
share, the escrow → wallet posting, risk activity, events, the key's completion), the commit —
on a twin packet of the same shape, same users.

Checks after the run, on top of reconciliation: every packet's unclaimed shares are refunded
(the expiry service, run as if a day had passed) and then claimed + refunded == total; no user
holds two claims on one packet; the 200 answers add up to the claims in the database, in count
and in fen; a packet never has more claims than shares.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import psycopg
from django.db.models import Count

from yaji.accounts.models import User
from yaji.accounts.services import api_token_authenticate
from yaji.bench.cases import Advance, CasePlan, PreparedCase
from yaji.bench.drive import DriveResult, HttpCall
from yaji.bench.seeding import BenchUser, users_seed, wallet_fund
from yaji.core import clock
from yaji.core.idempotency import (
    PendingKey,
    idempotency_complete_part_for,
    idempotency_json_response,
    idempotency_request_hash,
    idempotency_reserve_part_for,
)
from yaji.core.sqlparts import sql_parts_execute, sql_parts_execute_commit
from yaji.ledger.models import LedgerAccount
from yaji.redpackets.gate import packet_gate
from yaji.redpackets.lucky_split import MAX_COUNT
from yaji.redpackets.models import RedPacket, RedPacketClaim, SplitType
from yaji.redpackets.services import (
    CLAIM_SLOT,
    CURRENCY,
    LIFETIME,
    RISK_CLAIM,
    claim_luckiest_last,
    claim_slot_params,
    claim_writes,
    escrow_account_for,
    red_packet_expire_due,
    red_packet_send,
)
from yaji.risk.models import Outcome, RiskDecision
from yaji.risk.services import risk_decision_part

FEN_PER_SHARE = 10  # a full 200-share packet is 20 yuan; five of them 100 yuan per sender
SPREAD_SHARES = 10
SOLD_OUT_DIVISOR = 20
PACKETS_PER_SENDER = 5  # stays under the "more than 5 packets a day" step-up rule

PACKET_STATE = "SELECT status, expires_at FROM redpackets_redpacket WHERE id = %s"


@dataclass(frozen=True, slots=True)
class Packet:
    id: int
    escrow_id: int


def claim_transaction(
    conn: psycopg.Connection, *, packet: Packet, user_id: int, wallet_id: int, key: str
) -> bool:
    """``red_packet_claim``'s transaction, statement for statement, on a plain psycopg
    connection: the same statement parts the service builds (the risk decision with the
    idempotency key's reservation; the slot; the luckiest read on the last share; the claim's
    writes with the key's completion, :func:`yaji.redpackets.services.claim_writes`, sent with
    the commit in one round trip). Left out: Django, the request and the reads before the transaction. True if a
    share was claimed."""
    now = clock.now()
    path = f"/api/v1/red-packets/{packet.id}/claim"
    pending = PendingKey(
        scope=f"user:{user_id}",
        key=key,
        method="POST",
        path=path,
        request_hash=idempotency_request_hash(method="POST", path=path, body=b"{}"),
    )
    decision = RiskDecision(
        user_id=user_id, action=RISK_CLAIM, outcome=Outcome.ALLOW, reasons=[], ip="127.0.0.1"
    )
    with conn.cursor() as cur:
        _decision_id, record_id = sql_parts_execute(
            cur,
            [risk_decision_part(decision=decision), idempotency_reserve_part_for(pending, now=now)],
        )
        if record_id is None:
            conn.rollback()
            return False
        cur.execute(CLAIM_SLOT, claim_slot_params(packet_id=packet.id, now=now))
        slot = cur.fetchone()
        if slot is None:  # finished or expired: the service reads the row to say which
            cur.execute(PACKET_STATE, [packet.id])
            conn.rollback()
            return False
        seq, count, share_id, amount = slot
        finished = seq == count
        luckiest = (
            claim_luckiest_last(cursor=cur, packet_id=packet.id, user_id=user_id, amount=amount)
            if finished
            else None
        )
        body = {
            "packet_id": packet.id,
            "amount_fen": amount,
            "finished": finished,
            "luckiest": (
                {"user_id": luckiest.user_id, "amount_fen": luckiest.amount_fen}
                if luckiest
                else None
            ),
        }
        writes = claim_writes(
            packet_id=packet.id,
            user_id=user_id,
            share_id=share_id,
            amount=amount,
            finished=finished,
            escrow=LedgerAccount(pk=packet.escrow_id, currency=CURRENCY),
            wallet=LedgerAccount(pk=wallet_id, currency=CURRENCY),
            device="",
            ip="127.0.0.1",
            now=now,
            extra=idempotency_complete_part_for(
                record_id=record_id, locked_at=now, response=idempotency_json_response(body)
            ),
        )
        try:
            # The writes and the commit in one round trip, as the service sends them.
            sql_parts_execute_commit(conn, cur, writes.parts, required=writes.ledger_index)
        except psycopg.errors.DivisionByZero:  # the ledger's part wrote nothing
            conn.rollback()
            return False
    return True


def _send_packets(*, senders: list[BenchUser], shares: list[int], advance: Advance) -> list[Packet]:
    """Packets with these share counts, ≤ 5 from each (fresh, verified, funded) sender."""
    packets: list[Packet] = []
    groups = [shares[i : i + PACKETS_PER_SENDER] for i in range(0, len(shares), PACKETS_PER_SENDER)]
    for sender_ref, group in zip(senders, groups, strict=True):
        wallet_fund(user_id=sender_ref.id, amount_fen=sum(group) * FEN_PER_SHARE)
        sender = User.objects.get(pk=sender_ref.id)
        for count in group:
            packet = red_packet_send(
                sender=sender,
                total_fen=count * FEN_PER_SHARE,
                count=count,
                split_type=SplitType.LUCKY,
                blessing="压测红包 bench",
            )
            packets.append(Packet(id=packet.pk, escrow_id=escrow_account_for(packet).pk))
            advance(1)
    return packets


def _no(_n: int) -> None:
    pass


def _claim_call(*, packet_id: int, user: BenchUser, key: str, rid: str = "") -> HttpCall:
    return HttpCall(
        method="POST",
        path=f"/api/v1/red-packets/{packet_id}/claim",
        body=b"{}",
        headers={
            **user.headers,
            "Content-Type": "application/json",
            "Idempotency-Key": key,
            **({"X-Request-ID": rid} if rid else {}),
        },
    )


def _checks(
    *, http: DriveResult, calls_packet: list[int], users: list[BenchUser], packets: list[Packet]
) -> list[str]:
    found: list[str] = []
    ids = [p.id for p in packets]
    measured = set(calls_packet)
    # Anything still open is refunded as if its 24 hours had passed (only this case's packets
    # are active: earlier cases were closed the same way).
    red_packet_expire_due(now=clock.now() + LIFETIME + timedelta(minutes=1))

    paid_fen: Counter[int] = Counter()
    paid_n: Counter[int] = Counter()
    seen: set[tuple[int, int]] = set()
    for i, outcome in enumerate(http.outcomes):
        if outcome is None or outcome.status != 200:
            continue
        body = json.loads(outcome.body)
        pair = (calls_packet[i], users[i].id)
        if pair in seen:
            found.append(f"user {pair[1]} was paid twice on packet {pair[0]}")
        seen.add(pair)
        if body.get("packet_id") != calls_packet[i]:
            found.append(f"answer for packet {calls_packet[i]} names {body.get('packet_id')}")
        paid_fen[calls_packet[i]] += int(body["amount_fen"])
        paid_n[calls_packet[i]] += 1

    for p in RedPacket.objects.filter(pk__in=ids).annotate(n=Count("claims")):
        if p.claimed_fen + p.refunded_fen != p.total_fen:
            found.append(
                f"packet {p.pk}: claimed {p.claimed_fen} + refunded {p.refunded_fen} "
                f"!= total {p.total_fen}"
            )
        if p.n != p.claimed_count or p.claimed_count > p.count:
            found.append(
                f"packet {p.pk}: {p.n} claims, counter {p.claimed_count}, {p.count} shares"
            )
        if p.pk in measured and (paid_n[p.pk], paid_fen[p.pk]) != (p.claimed_count, p.claimed_fen):
            found.append(
                f"packet {p.pk}: answers paid {paid_n[p.pk]} claims / {paid_fen[p.pk]} fen, "
                f"database has {p.claimed_count} / {p.claimed_fen}"
            )
    doubles = (
        RedPacketClaim.objects.filter(packet_id__in=ids)
        .values("packet_id", "user_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    found += [
        f"user {d['user_id']} claimed packet {d['packet_id']} {d['n']} times" for d in doubles
    ]
    return found


def _fast_answers(log_path: Path, prefix: str) -> int:
    """Access-log lines of requests whose id starts with ``prefix`` answered by the fast path."""
    found = 0
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return found
    for line in lines:
        if prefix not in line or not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if str(entry.get("request_id", "")).startswith(prefix) and entry.get("fast") is True:
            found += 1
    return found


def _plan(name: str, requests: int, shares: list[int], target: Callable[[int], int]) -> CasePlan:
    """A case whose HTTP packets and twin ceiling packets have these share counts; grab i goes
    to packet ``target(i)``. ``sold-out``: users ``requests..`` drain the packet first, untimed."""
    drain = sum(shares) if name == "sold-out" else 0

    def prepare(users: list[BenchUser], tag: str, advance: Advance) -> PreparedCase:
        # Fresh senders every run: risk control counts each account's packets per day.
        per_set = math.ceil(len(shares) / PACKETS_PER_SENDER)
        senders = users_seed(count=2 * per_set, tag=f"{tag}-s", advance=_no, verified=True)
        measured = _send_packets(senders=senders[:per_set], shares=shares, advance=advance)
        twins = _send_packets(senders=senders[per_set:], shares=shares, advance=advance)
        gate = packet_gate()
        for twin in twins if gate is not None else []:
            # Raw SQL claims the twins past the Redis gate (the database-only path), so they
            # must not have gate keys, or reconciliation would rightly say the gate disagrees.
            gate.forget(twin.id)
        targets = [target(i) for i in range(requests)]
        rid = f"rp-{tag}-"
        calls = [
            _claim_call(
                packet_id=measured[t].id, user=users[i], key=f"bench-{tag}-{i}", rid=f"{rid}{i}"
            )
            for i, t in enumerate(targets)
        ]
        drainers = users[requests : requests + drain]
        drain_calls = [
            _claim_call(packet_id=measured[0].id, user=user, key=f"drain-{tag}-{j}")
            for j, user in enumerate(drainers)
        ]
        drain_result: list[DriveResult] = []

        def ceiling(conn: psycopg.Connection, i: int) -> bool:
            return claim_transaction(
                conn,
                packet=twins[targets[i]],
                user_id=users[i].id,
                wallet_id=users[i].wallet_id,
                key=f"ceiling-{tag}-{i}",
            )

        def check(http: DriveResult, _ceiling: DriveResult) -> list[str]:
            found: list[str] = []
            outcomes = list(http.outcomes)
            calls_packet = [measured[t].id for t in targets]
            grabbers = users[:requests]
            if drain:
                drained = drain_result[0].outcomes if drain_result else []
                won = sum(1 for o in drained if o is not None and o.status == 200)
                if won != drain:
                    found.append(f"the drain claimed {won} of {drain} shares before the storm")
                outcomes = drained + outcomes
                calls_packet = [measured[0].id] * len(drained) + calls_packet
                grabbers = drainers[: len(drained)] + grabbers
            return found + _checks(
                http=DriveResult(outcomes=outcomes, wall_s=http.wall_s, timed_out=False),
                calls_packet=calls_packet,
                users=grabbers,
                packets=measured + twins,
            )

        # sold-out: every timed grab comes after the drain, by a user without a claim.
        expected = frozenset({409}) if name == "sold-out" else frozenset({200})
        # Real grabbers have used the app within the last minute before the storm. Their tokens
        # are seen twice by the same authentication Django runs (ADR 0036: the first sighting
        # reads the row, records the use and learns the user; the second caches the entry,
        # which lives 30 s), here in this process after the drain, right before the storm.
        # Over HTTP (two GETs of the packet each, before the drain) this took longer than an
        # entry lives for 5,000 grabbers on a busy machine, and the fast path then (rightly)
        # left the stale ones to Django. The drain's real grabs, untimed but checked, warm
        # every server worker.
        sold_out = name == "sold-out"
        grabbers_seen = users[:requests]  # the drainers' grabs are Django's anyway

        def sightings() -> None:
            for _ in range(2):
                for user in grabbers_seen:
                    api_token_authenticate(raw_token=user.token)

        return PreparedCase(
            calls=calls,
            expected=expected,
            ceiling_count=requests,
            ceiling_transaction=ceiling,
            check=check,
            warm_local=sightings if sold_out else None,
            drain_calls=drain_calls or None,
            drained=drain_result.append if drain else None,
            server_measure=(
                (lambda log_path: {"fast_answers": _fast_answers(log_path, rid), "drained": drain})
                if drain
                else None
            ),
        )

    return CasePlan(
        name=name, users_needed=requests + drain, seed_steps=2 * len(shares), prepare=prepare
    )


CASES = ("hot", "spread", "sold-out")


def redpackets_cases(*, requests: int, names: list[str]) -> list[CasePlan]:
    full, rest = divmod(requests, MAX_COUNT)
    spread = math.ceil(requests / SPREAD_SHARES)
    plans = {
        "hot": lambda: _plan(
            "hot", requests, [MAX_COUNT] * full + ([rest] if rest else []), lambda i: i // MAX_COUNT
        ),
        "spread": lambda: _plan("spread", requests, [SPREAD_SHARES] * spread, lambda i: i % spread),
        "sold-out": lambda: _plan(
            "sold-out",
            requests,
            [min(math.ceil(requests / SOLD_OUT_DIVISOR), MAX_COUNT)],
            lambda i: 0,
        ),
    }
    return [plans[name]() for name in names]
