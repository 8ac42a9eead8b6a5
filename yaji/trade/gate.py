"""The optional Redis gate in front of flash-sale placements (ARCHITECTURE.md §3, ADR 0045).

With ``REDIS_URL`` configured, one atomic Lua script per buy-now answers "sold out" and "over the
per-buyer limit" before the database is touched; everyone else is admitted to the placement,
which stays the source of truth. Without Redis (or when Redis fails) the database answers alone,
exactly as before (ADR 0040).

Keys of sale ``id`` (hash-tagged, so a Redis Cluster keeps them in one slot)::

    <prefix>fs:{id}:left      units the gate may still hand out (may dip below 0, see sold)
    <prefix>fs:{id}:bought    HASH user -> units on the user's committed, live orders
    <prefix>fs:{id}:pending   ZSET ticket -> admitted-at (ms): admitted, placement in flight
    <prefix>fs:{id}:tickets   HASH ticket -> "user:units"
    <prefix>fs:{id}:meta      HASH epoch, starts/ends (ms), limit, seq (bumped by every change),
                              returns (bumped by every unit given back)
    <prefix>fs:{id}:keys      SET of the idempotency-key digests of placements that committed
    <prefix>fs:{id}:mine      HASH user -> units pending (admitted, in flight)

Rules every script keeps, so that the gate errs towards *admitting* (the database refuses the
surplus) and never turns a buyer away who would have got a unit:

* "sold out" only when ``left <= 0`` **and** nothing is pending — a placement in flight may still
  fail and give its unit back; meanwhile everyone is *bypassed* to the database;
* "over the limit" only from ``bought``, which gets units only after their placement committed;
  a buyer with a placement of their own in flight is bypassed (the database decides under the
  buyer's row lock);
* a key digest in ``keys`` (a retry of a placement that succeeded) is always bypassed, so the
  idempotency layer replays its 201;
* outside the sale's window everyone is bypassed: the database says "not started" / "ended".

After the database answers the caller tells the gate: ``confirm`` (committed), ``release``
(refused or failed: the units go back), ``release_sold_out`` (the database found the sale sold
out: the units go back but ``left`` is clamped to the stock the database has, unless a unit was
given back meanwhile), ``sold`` (a placement that did not hold a ticket committed: a cart
checkout, a bypassed buy-now). Units given back by a cancellation, an expiry or a refund call
``give_back`` after their commit. Every call after admission carries the gate's ``epoch``: a
gate rebuilt from the database meanwhile already counts what the database holds.

A process that dies between admission and release leaks a ticket; the next admission after
``STALE_MS`` reclaims it. Keys missing (Redis restarted, a sale created while Redis was down)
are rebuilt from the database, "only if absent". A lost ``give_back`` (Redis failing just then)
would leave the gate low: the trade timers' ``resync`` puts a quiet gate (nothing pending,
nothing changed since it was read) back on the database's numbers every minute, and
reconciliation (``trade.flash_gate``) proves the gate and the database agree.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from yaji.core.gates import redis_gate, redis_ms

logger = logging.getLogger(__name__)

STALE_MS = 15_000  # an admission older than this is presumed leaked by a dead process
KEY_TTL_AFTER_END_S = 24 * 3600  # the keys outlive the sale by a day, then expire
SOCKET_TIMEOUT_S = 0.5

# Shared by the scripts: give back the units of stale tickets.
_RECLAIM = """
local stale = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[4]))
for _, t in ipairs(stale) do
  local tk = redis.call('HGET', KEYS[4], t)
  redis.call('ZREM', KEYS[3], t)
  redis.call('HDEL', KEYS[4], t)
  if tk then
    local u, n = string.match(tk, '^(%d+):(%d+)$')
    redis.call('INCRBY', KEYS[1], n)
    if redis.call('HINCRBY', KEYS[7], u, -tonumber(n)) <= 0 then redis.call('HDEL', KEYS[7], u) end
  end
end
"""

# ARGV: user, units, now_ms, stale_ms, ticket, key digest
_ADMIT = (
    """
local left = redis.call('GET', KEYS[1])
if not left then return {'missing'} end
local epoch = redis.call('HGET', KEYS[5], 'epoch') or ''
if ARGV[6] ~= '' and redis.call('SISMEMBER', KEYS[6], ARGV[6]) == 1 then
  return {'bypass', epoch}
end
local now = tonumber(ARGV[3])
if now < tonumber(redis.call('HGET', KEYS[5], 'starts'))
   or now >= tonumber(redis.call('HGET', KEYS[5], 'ends')) then
  return {'bypass', epoch}
end
"""
    + _RECLAIM
    + """
local user, q = ARGV[1], tonumber(ARGV[2])
local bought = tonumber(redis.call('HGET', KEYS[2], user) or '0')
local limit = tonumber(redis.call('HGET', KEYS[5], 'limit'))
if bought + q > limit then return {'over_limit', epoch, tostring(bought), tostring(limit)} end
if tonumber(redis.call('HGET', KEYS[7], user) or '0') > 0 then return {'bypass', epoch} end
left = tonumber(redis.call('GET', KEYS[1]))
if left < q then
  if left <= 0 and redis.call('ZCARD', KEYS[3]) == 0 then return {'sold_out', epoch} end
  return {'bypass', epoch}
end
redis.call('DECRBY', KEYS[1], q)
redis.call('ZADD', KEYS[3], now, ARGV[5])
redis.call('HSET', KEYS[4], ARGV[5], user .. ':' .. q)
redis.call('HINCRBY', KEYS[7], user, q)
redis.call('HINCRBY', KEYS[5], 'seq', 1)
return {'admitted', epoch, redis.call('HGET', KEYS[5], 'returns') or '0'}
"""
)

# Read only (the fast path, the gate before authentication). ARGV: user ('' unknown), units,
# now_ms, key digest.
_PEEK = """
local left = redis.call('GET', KEYS[1])
if not left then return {'missing'} end
if ARGV[4] ~= '' and redis.call('SISMEMBER', KEYS[6], ARGV[4]) == 1 then return {'pass'} end
local now = tonumber(ARGV[3])
if now < tonumber(redis.call('HGET', KEYS[5], 'starts'))
   or now >= tonumber(redis.call('HGET', KEYS[5], 'ends')) then
  return {'pass'}
end
if tonumber(left) <= 0 and redis.call('ZCARD', KEYS[3]) == 0 then return {'sold_out'} end
if ARGV[1] ~= '' then  -- after sold out: the API answers that before authentication
  local bought = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
  local limit = tonumber(redis.call('HGET', KEYS[5], 'limit'))
  if bought + tonumber(ARGV[2]) > limit then
    return {'over_limit', tostring(bought), tostring(limit)}
  end
end
return {'pass'}
"""

# ARGV: ticket, epoch, user, units, key digest
_CONFIRM = """
if redis.call('HGET', KEYS[5], 'epoch') ~= ARGV[2] then return 0 end
if redis.call('HDEL', KEYS[4], ARGV[1]) == 1 then
  redis.call('ZREM', KEYS[3], ARGV[1])
  if redis.call('HINCRBY', KEYS[7], ARGV[3], -tonumber(ARGV[4])) <= 0 then
    redis.call('HDEL', KEYS[7], ARGV[3])
  end
else
  redis.call('DECRBY', KEYS[1], ARGV[4])  -- reclaimed as stale meanwhile: the unit is sold
end
redis.call('HINCRBY', KEYS[2], ARGV[3], ARGV[4])
if ARGV[5] ~= '' then redis.call('SADD', KEYS[6], ARGV[5]) end
redis.call('HINCRBY', KEYS[5], 'seq', 1)
return 1
"""

# ARGV: ticket, epoch, user, units, available ('' unknown), returns seen at admission
_RELEASE = """
if redis.call('HGET', KEYS[5], 'epoch') ~= ARGV[2] then return 0 end
if redis.call('HDEL', KEYS[4], ARGV[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[3], ARGV[1])
if redis.call('HINCRBY', KEYS[7], ARGV[3], -tonumber(ARGV[4])) <= 0 then
  redis.call('HDEL', KEYS[7], ARGV[3])
end
local left = redis.call('INCRBY', KEYS[1], ARGV[4])
if ARGV[5] ~= '' and (redis.call('HGET', KEYS[5], 'returns') or '0') == ARGV[6]
   and left > tonumber(ARGV[5]) then
  redis.call('SET', KEYS[1], ARGV[5], 'KEEPTTL')
end
redis.call('HINCRBY', KEYS[5], 'seq', 1)
return 1
"""

# ARGV: epoch ('' any), user, units, key digest
_SOLD = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] ~= '' and redis.call('HGET', KEYS[5], 'epoch') ~= ARGV[1] then return 0 end
redis.call('DECRBY', KEYS[1], ARGV[3])
redis.call('HINCRBY', KEYS[2], ARGV[2], ARGV[3])
if ARGV[4] ~= '' then redis.call('SADD', KEYS[6], ARGV[4]) end
redis.call('HINCRBY', KEYS[5], 'seq', 1)
return 1
"""

# ARGV: user, units
_GIVE_BACK = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('INCRBY', KEYS[1], ARGV[2])
if redis.call('HINCRBY', KEYS[2], ARGV[1], -tonumber(ARGV[2])) <= 0 then
  redis.call('HDEL', KEYS[2], ARGV[1])
end
redis.call('HINCRBY', KEYS[5], 'returns', 1)
redis.call('HINCRBY', KEYS[5], 'seq', 1)
return 1
"""

# ARGV: left, starts_ms, ends_ms, limit, ttl_s, epoch, then user, units pairs. Only when absent.
_INIT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7])
redis.call('HSET', KEYS[5], 'epoch', ARGV[6], 'starts', ARGV[2], 'ends', ARGV[3],
           'limit', ARGV[4], 'seq', 0, 'returns', 0)
for i = 7, #ARGV, 1000 do
  redis.call('HSET', KEYS[2], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
redis.call('SET', KEYS[1], ARGV[1])
for i = 1, 7 do redis.call('EXPIRE', KEYS[i], tonumber(ARGV[5])) end
return 1
"""

# ARGV: seq seen before the database was read, left, then user, units pairs. Only if quiet.
_RESYNC = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if (redis.call('HGET', KEYS[5], 'seq') or '') ~= ARGV[1] then return 0 end
if redis.call('ZCARD', KEYS[3]) > 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
redis.call('DEL', KEYS[2], KEYS[7])
for i = 3, #ARGV, 1000 do
  redis.call('HSET', KEYS[2], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
redis.call('EXPIRE', KEYS[2], redis.call('TTL', KEYS[1]))
redis.call('HINCRBY', KEYS[5], 'seq', 1)
return 1
"""


class Verdict(StrEnum):
    ADMITTED = "admitted"  # units held for this placement: confirm or release them
    BYPASS = "bypass"  # nothing held; the database decides (tell the gate ``sold`` if placed)
    SOLD_OUT = "sold_out"  # definitive: every unit is on a committed order
    OVER_LIMIT = "over_limit"  # definitive: the buyer's committed orders reach the limit
    MISSING = "missing"  # no gate state: rebuild from the database


@dataclass(frozen=True, slots=True)
class Admission:
    verdict: Verdict
    epoch: str = ""
    ticket: str = ""
    returns: str = "0"  # the gate's give-back count at admission (see release_sold_out)
    bought: int = 0  # over_limit: the units the buyer holds, and the limit
    limit: int = 0


@dataclass(frozen=True, slots=True)
class Peek:
    verdict: str  # "sold_out", "over_limit", "pass" or "missing"
    bought: int = 0
    limit: int = 0


@dataclass(frozen=True, slots=True)
class GateState:
    left: int | None  # None: no gate keys for this sale
    bought: dict[int, int]
    pending: dict[int, int]  # user -> units in flight
    seq: str
    epoch: str


def _s(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class FlashGate:
    """The Lua scripts over one Redis client. Every method may raise ``redis.RedisError``;
    callers treat that as "no gate" (the database answers alone)."""

    def __init__(self, url: str, prefix: str = "") -> None:
        import redis

        self.client = redis.Redis.from_url(
            url, socket_timeout=SOCKET_TIMEOUT_S, socket_connect_timeout=SOCKET_TIMEOUT_S
        )
        self.prefix = prefix
        register = self.client.register_script
        self._admit = register(_ADMIT)
        self._peek = register(_PEEK)
        self._confirm = register(_CONFIRM)
        self._release = register(_RELEASE)
        self._sold = register(_SOLD)
        self._give_back = register(_GIVE_BACK)
        self._init = register(_INIT)
        self._resync = register(_RESYNC)

    def keys(self, sale_id: int) -> list[str]:
        base = f"{self.prefix}fs:{{{sale_id}}}:"
        return [base + name for name in _NAMES]

    def admit(
        self, *, sale_id: int, user_id: int, units: int, now: datetime, key_digest: str = ""
    ) -> Admission:
        ticket = secrets.token_hex(8)
        raw = self._admit(
            keys=self.keys(sale_id),
            args=[user_id, units, _ms(now), STALE_MS, ticket, key_digest],
        )
        parts = [_s(x) for x in raw]
        verdict = Verdict(parts[0])
        if verdict == Verdict.ADMITTED:
            return Admission(verdict, epoch=parts[1], ticket=ticket, returns=parts[2])
        if verdict == Verdict.OVER_LIMIT:
            return Admission(verdict, epoch=parts[1], bought=int(parts[2]), limit=int(parts[3]))
        return Admission(verdict, epoch=parts[1] if len(parts) > 1 else "")

    def peek(
        self, *, sale_id: int, now: datetime, user_id: int | None = None, units: int = 1,
        key_digest: str = "",
    ) -> Peek:  # fmt: skip
        raw = self._peek(
            keys=self.keys(sale_id),
            args=["" if user_id is None else user_id, units, _ms(now), key_digest],
        )
        parts = [_s(x) for x in raw]
        if parts[0] == "over_limit":
            return Peek("over_limit", bought=int(parts[1]), limit=int(parts[2]))
        return Peek(parts[0])

    def confirm(
        self, *, sale_id: int, admission: Admission, user_id: int, units: int, key_digest: str
    ) -> None:
        self._confirm(
            keys=self.keys(sale_id),
            args=[admission.ticket, admission.epoch, user_id, units, key_digest],
        )

    def release(
        self,
        *,
        sale_id: int,
        admission: Admission,
        user_id: int,
        units: int,
        available: int | None = None,
    ) -> None:
        """Give the admission's units back; with ``available`` (the database found the sale
        sold out and holds that many units) ``left`` is clamped to it, unless a unit was given
        back since the admission (then it may be part of ``left`` and not of ``available``)."""
        self._release(
            keys=self.keys(sale_id),
            args=[
                admission.ticket,
                admission.epoch,
                user_id,
                units,
                "" if available is None else max(available, 0),
                admission.returns,
            ],
        )

    def sold(
        self, *, sale_id: int, epoch: str, user_id: int, units: int, key_digest: str = ""
    ) -> None:
        self._sold(keys=self.keys(sale_id), args=[epoch, user_id, units, key_digest])

    def give_back(self, *, sale_id: int, user_id: int, units: int) -> None:
        self._give_back(keys=self.keys(sale_id), args=[user_id, units])

    def epoch(self, sale_id: int) -> str | None:
        raw = self.client.hget(self.keys(sale_id)[4], "epoch")
        return None if raw is None else _s(raw)

    def init(
        self,
        *,
        sale_id: int,
        left: int,
        starts_at: datetime,
        ends_at: datetime,
        limit: int,
        bought: Mapping[int, int],
        now: datetime,
    ) -> bool:
        """Create the sale's gate unless it exists; True if this call created it."""
        ttl = max(int((ends_at - now).total_seconds()), 0) + KEY_TTL_AFTER_END_S
        args: list[object] = [left, _ms(starts_at), _ms(ends_at), limit, ttl, secrets.token_hex(8)]
        for user_id, units in bought.items():
            args += [user_id, units]
        return bool(self._init(keys=self.keys(sale_id), args=args))

    def resync(self, *, sale_id: int, seq: str, left: int, bought: Mapping[int, int]) -> bool:
        """Put a quiet gate on the database's numbers: applied only if the gate did not change
        since ``seq`` was read (before the database) and nothing is in flight."""
        args: list[object] = [seq, left]
        for user_id, units in bought.items():
            args += [user_id, units]
        return bool(self._resync(keys=self.keys(sale_id), args=args))

    def state(self, sale_id: int) -> GateState:
        left_key, bought_key, _pending, _tickets, meta_key, _keys, mine_key = self.keys(sale_id)
        pipe = self.client.pipeline(transaction=True)
        pipe.get(left_key).hgetall(bought_key).hgetall(mine_key).hgetall(meta_key)
        left, bought, mine, meta = pipe.execute()
        meta = {_s(k): _s(v) for k, v in meta.items()}
        return GateState(
            left=None if left is None else int(left),
            bought={int(k): int(v) for k, v in bought.items()},
            pending={int(k): int(v) for k, v in mine.items() if int(v) > 0},
            seq=meta.get("seq", ""),
            epoch=meta.get("epoch", ""),
        )

    def forget(self, sale_id: int) -> None:
        self.client.delete(*self.keys(sale_id))


_NAMES = ("left", "bought", "pending", "tickets", "meta", "keys", "mine")


_ms = redis_ms


def flash_gate() -> FlashGate | None:
    """The gate when Redis is configured (``REDIS_URL``), else None. One client per process."""
    return redis_gate(FlashGate)
