"""The red-packet grab's fast answers (ADR 0043): "all taken" and "expired" from the Redis gate,
before Django, for a bearer-authenticated grab the API would answer the same way.

What ``POST /api/v1/red-packets/<id>/claim`` does first on the slow path, in order, and how
this handler mirrors it (anything it cannot mirror cheaply goes to Django):

1. ninja: the path's ``packet_id`` as an int; the body parsed as JSON into ``ClaimIn`` (else
   400/422) — an empty body, non-JSON or an invalid ``ClaimIn`` goes to Django;
2. ``@idempotent(required=True, in_transaction=True)``: a missing or malformed
   ``Idempotency-Key`` is 400 — goes to Django; a valid key is not looked up for the gate's
   "all taken" / "expired" (the view returns them without the key's look-up, see
   ``yaji.redpackets.api.red_packet_claim``);
3. ``services.red_packet_claim``: the gate's admit script, before any database query and
   before risk control. Its first definitive answers, in its order: no gate keys → rebuild
   (Django); the user in ``claimed`` → "already claimed", which the API then checks against
   the idempotency record (a retry of a grab that succeeded replays it) — Django; ``done`` =
   finished → ``packet_finished``; ``done`` = expired or past ``exp`` → ``packet_expired``;
   a restricted audience → access check (Django); anything pending, stale or not (the script
   may reclaim it and admit) → Django; ``left <= 0`` → ``packet_finished``; else admitted
   (Django).

The peek below is that order as one read-only Lua script: it changes nothing in the gate, so
the gate's invariant and reconciliation are untouched. When the token came from the process's
near copies (ADR 0060) the peek is asked apart, unless a fresh snapshot of a drained packet
(below) already decides: then the answer needs no Redis call at all.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from pydantic import ValidationError
from redis.exceptions import RedisError

from yaji.core import clock
from yaji.core.errors import ApplicationError
from yaji.core.fastpath import FastRequest, RedisPeek, fast_route
from yaji.core.idempotency import _KEY as IDEMPOTENCY_KEY
from yaji.redpackets.errors import PacketExpired, PacketFinished
from yaji.redpackets.gate import PacketGate, _ms, packet_gate
from yaji.redpackets.schemas import ClaimIn

# The gate's admit, its early answers only and read only. Sees K (left, claimed, pending, meta),
# uid (the grabber) and A[1] (now, ms).
_PEEK = """
local left = redis.call('GET', K[1])
if not left then return 'missing' end
if redis.call('SISMEMBER', K[2], uid) == 1 then return 'already' end
local done = redis.call('HGET', K[4], 'done')
if done == 'finished' then return 'taken' end
if done == 'expired' then return 'expired' end
local exp = tonumber(redis.call('HGET', K[4], 'exp') or '0')
if exp > 0 and tonumber(A[1]) >= exp then return 'expired' end
if redis.call('HGET', K[4], 'open') ~= '1' then return 'check' end
if redis.call('ZCARD', K[3]) > 0 then return 'pending' end
if tonumber(left) <= 0 then return 'taken' end
return 'open'
"""
_PEEK_ALONE = "local K, A, uid = KEYS, {ARGV[2]}, ARGV[1]\n" + _PEEK

_script: list[Any] = []  # one redis-py Script (its SHA), run on the gate's client


def gate_peek(gate: PacketGate, *, packet_id: int, user_id: int, now_ms: int) -> str:
    """What the gate's admit would answer first, without changing anything: ``taken``,
    ``expired`` (definitive, as admit answers them) or ``missing`` / ``already`` / ``check`` /
    ``pending`` / ``open`` (the slow path decides). Raises ``redis.RedisError``."""
    if not _script:
        _script.append(gate.client.register_script(_PEEK_ALONE))
    raw = _script[0](keys=gate.keys(packet_id), args=[user_id, now_ms], client=gate.client)
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def _gate_keys(params: dict[str, str]) -> list[str] | None:
    gate = packet_gate()
    return gate.keys(int(params["packet_id"])) if gate is not None else None


# With the token cache in the gate's Redis (both REDIS_URL), the peek rides in the token
# check's round trip: one Redis call per fast answer.
GATE_PEEK = RedisPeek(
    lua=_PEEK,
    keys=_gate_keys,
    args=lambda _params: [_ms(clock.now())],
    location=lambda: getattr(settings, "REDIS_URL", None) or None,
)


_MEMO_SIZE = 64
_MEMO_BODY = 256  # bytes: a grab's body is "{}" or a few coordinates
_valid_bodies: dict[bytes, bool] = {}


def _payload_valid(body: bytes) -> bool:
    """ninja would parse ``body`` into ``ClaimIn``. Pure in the bytes: short bodies' verdicts are
    memoised per process (a storm sends the same ``{}`` thousands of times)."""
    known = _valid_bodies.get(body)
    if known is not None:
        return known
    valid = _payload_parse(body)
    if len(body) <= _MEMO_BODY and len(_valid_bodies) < _MEMO_SIZE:
        _valid_bodies[body] = valid
    return valid


def _payload_parse(body: bytes) -> bool:
    if not body:
        return False  # ninja's answer to an empty body is its own: let it give it
    try:
        data = json.loads(body)
        ClaimIn.model_validate(data)
    except (ValueError, ValidationError):
        return False
    return isinstance(data, dict)


_answers: dict[str, ApplicationError] = {}


def _answer(verdict: str) -> ApplicationError | None:
    """The same errors, with the same extra, as services._gate_admit raises for them; built once
    per process (an error is only rendered here, never raised, so one instance serves all)."""
    if verdict not in ("taken", "expired"):
        return None
    error = _answers.get(verdict)
    if error is None:
        cls = PacketFinished if verdict == "taken" else PacketExpired
        error = _answers[verdict] = cls(extra={"gate": True})
    return error


# --- drained packets, per process (ADR 0060) --------------------------------------------------
#
# With the token read from the process's near copies, the gate's peek would be the answer's only
# Redis call. A packet the gate holds as finished (``done``), or open with no slot left and
# nothing pending, stays so: no grab can be admitted again (the gate's invariant; only a repair
# — a rebuild, reconciliation — changes it). So the peek's answer for such a packet is read
# once per SNAPSHOT_S per process: its claimants (the peek sends them to Django), ``finished``
# or ``drained`` and its expiry (a drained packet past its expiry is "expired", not "all taken").
SNAPSHOT_S = 1.0
_SNAPSHOT_MAX = 1024
_SNAPSHOT = """
local left = redis.call('GET', KEYS[1])
if not left then return false end
local done = redis.call('HGET', KEYS[4], 'done')
local kind = 'finished'
if done ~= 'finished' then
  if done == 'expired' or redis.call('HGET', KEYS[4], 'open') ~= '1' then return false end
  if redis.call('ZCARD', KEYS[3]) > 0 or tonumber(left) > 0 then return false end
  kind = 'drained'
end
local out = {kind, redis.call('HGET', KEYS[4], 'exp') or '0'}
for _, member in ipairs(redis.call('SMEMBERS', KEYS[2])) do out[#out + 1] = member end
return out
"""


@dataclass(frozen=True, slots=True)
class _Drained:
    until: float  # time.monotonic(); a failed snapshot is remembered too, so not retried per grab
    finished: bool  # done = finished: "all taken" whatever the time
    exp_ms: int  # drained, not finished: "all taken" only before this (0: no expiry)
    claimants: frozenset[int] | None  # None: not drained (the peek decides)


_drained: dict[int, _Drained] = {}
_snapshot_script: list[Any] = []


def _drained_verdict(packet_id: int, user_id: int, now_ms: int) -> str | None:
    """What the peek would answer from the kept snapshot: ``taken``, ``already`` (Django
    answers) or None (no fresh snapshot: ask the gate)."""
    known = _drained.get(packet_id)
    if known is None or known.claimants is None or known.until <= time.monotonic():
        return None
    if user_id in known.claimants:
        return "already"
    if known.finished or not (0 < known.exp_ms <= now_ms):
        return "taken"
    return None  # drained and expired since: the peek says "expired"


def _drained_note(gate: PacketGate, packet_id: int) -> None:
    """After the gate said "all taken": keep its snapshot (at most once per SNAPSHOT_S)."""
    known = _drained.get(packet_id)
    if known is not None and known.until > time.monotonic():
        return
    if not _snapshot_script:
        _snapshot_script.append(gate.client.register_script(_SNAPSHOT))
    raw = _snapshot_script[0](keys=gate.keys(packet_id), client=gate.client)
    until = time.monotonic() + SNAPSHOT_S
    if len(_drained) >= _SNAPSHOT_MAX:
        _drained.clear()
    if not raw:
        _drained[packet_id] = _Drained(until=until, finished=False, exp_ms=0, claimants=None)
        return
    kind, exp, *members = (x.decode() if isinstance(x, bytes) else str(x) for x in raw)
    _drained[packet_id] = _Drained(
        until=until,
        finished=kind == "finished",
        exp_ms=int(exp),
        claimants=frozenset(int(m) for m in members),
    )


@fast_route("POST", r"/api/v1/red-packets/(?P<packet_id>[0-9]{1,18})/claim", peek=GATE_PEEK)
def claim(request: FastRequest) -> ApplicationError | None:
    key = request.headers.get("idempotency-key")
    if key is None or not IDEMPOTENCY_KEY.match(key) or not _payload_valid(request.body):
        return None
    verdict = request.peeked
    packet_id = int(request.params["packet_id"])
    if verdict is None:
        now_ms = _ms(clock.now())
        verdict = _drained_verdict(packet_id, request.user_id, now_ms)
        if verdict is not None:
            return _answer(verdict)
        gate = packet_gate()
        if gate is None:
            return None
        verdict = gate_peek(gate, packet_id=packet_id, user_id=request.user_id, now_ms=now_ms)
    if verdict == "taken":
        gate = packet_gate()
        if gate is not None:
            with contextlib.suppress(RedisError):  # no snapshot: the next grab asks the gate
                _drained_note(gate, packet_id)
    return _answer(verdict)
