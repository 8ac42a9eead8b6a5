"""The optional Redis gate in front of red-packet claims (ARCHITECTURE.md §3, ADR 0020).

With ``REDIS_URL`` configured, one atomic Lua script per grab answers "all taken" and "already
claimed" before the database is touched; everyone else is admitted to the database claim, which
stays the source of truth. Without Redis (or when Redis fails) every grab goes to the database.

Keys of packet ``id`` (hash-tagged, so a Redis Cluster keeps them in one slot and the script
stays atomic)::

    <prefix>rp:{id}:left      slots not yet handed out
    <prefix>rp:{id}:claimed   SET of users whose claim committed in the database
    <prefix>rp:{id}:pending   ZSET user -> admitted-at (ms): admitted, database claim in flight
    <prefix>rp:{id}:meta      HASH exp (ms), open (1: public, no access check), done

Invariant kept by every script: ``left + |pending| + |claimed| == count``. From it:

* "all taken" is answered only when ``left <= 0`` **and** nothing is pending, i.e. ``count``
  claims have committed — never a guess. While something is pending (a claim in flight that
  may still fail) the grab *bypasses* the gate and the database decides;
* "already claimed" is answered only from ``claimed``, which gets a user only after their
  database claim committed (or from the database itself on rebuild);
* a user found in ``pending`` (a double click) bypasses the gate, no slot taken.

After the database answers, the caller tells the gate: ``confirm`` (claim committed, or the
database said "already claimed"), ``release`` (any other failure: the slot goes back — the
compensation that keeps a wrongly admitted slot from turning others away), or ``close``
(the database said finished / expired). A process that dies between admission and release
leaks a pending entry; the next grab after ``STALE_MS`` reclaims it. Keys missing (first grab
after a Redis restart, eviction, a send whose on-commit init failed) are rebuilt from the
database by the grab that notices, with an "only if absent" script.

Every race between a rebuild and in-flight claims errs towards *admitting* too many (the
database then refuses the surplus), never towards turning a user away; reconciliation
(``redpackets.gate``) proves the gate and the database agree.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from yaji.core.gates import redis_gate, redis_ms

logger = logging.getLogger(__name__)

STALE_MS = 15_000  # an admission older than this is presumed leaked by a dead process
KEY_TTL_S = 2 * 24 * 3600  # beyond the packet's 24 h life; a later grab rebuilds from the DB
SOCKET_TIMEOUT_S = 0.5

_ADMIT = """
local left = redis.call('GET', KEYS[1])
if not left then return 'missing' end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return 'already' end
local done = redis.call('HGET', KEYS[4], 'done')
if done == 'finished' then return 'taken' end
if done == 'expired' then return 'expired' end
local now = tonumber(ARGV[2])
local exp = tonumber(redis.call('HGET', KEYS[4], 'exp') or '0')
if exp > 0 and now >= exp then return 'expired' end
if ARGV[4] ~= '1' and redis.call('HGET', KEYS[4], 'open') ~= '1' then return 'check' end
local stale = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[3]))
for _, member in ipairs(stale) do
  redis.call('ZREM', KEYS[3], member)
  redis.call('INCR', KEYS[1])
end
if redis.call('ZSCORE', KEYS[3], ARGV[1]) then return 'bypass' end
if tonumber(redis.call('GET', KEYS[1])) <= 0 then
  if redis.call('ZCARD', KEYS[3]) == 0 then return 'taken' end
  return 'bypass'
end
redis.call('DECR', KEYS[1])
redis.call('ZADD', KEYS[3], now, ARGV[1])
return 'admitted'
"""

_CONFIRM = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local removed = redis.call('ZREM', KEYS[3], ARGV[1])
local added = redis.call('SADD', KEYS[2], ARGV[1])
if removed == 0 and added == 1 then redis.call('DECR', KEYS[1]) end
return 1
"""

_RELEASE = """
if redis.call('ZREM', KEYS[3], ARGV[1]) == 1 and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('INCR', KEYS[1])
  return 1
end
return 0
"""

_CLOSE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] ~= '' and redis.call('ZREM', KEYS[3], ARGV[1]) == 1 then
  redis.call('INCR', KEYS[1])
end
redis.call('HSET', KEYS[4], 'done', ARGV[2])
return 1
"""

# ARGV: left, exp_ms, open, ttl_s, done, users...  Only when absent: never clobbers a live gate.
_INIT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
redis.call('HSET', KEYS[4], 'exp', ARGV[2], 'open', ARGV[3], 'done', ARGV[5])
for i = 6, #ARGV, 1000 do
  redis.call('SADD', KEYS[2], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
redis.call('SET', KEYS[1], ARGV[1])
for i = 1, 4 do redis.call('EXPIRE', KEYS[i], tonumber(ARGV[4])) end
return 1
"""


class Verdict(StrEnum):
    ADMITTED = "admitted"  # a slot is held for this user: confirm or release it
    BYPASS = "bypass"  # no slot held; let the database decide
    TAKEN = "taken"  # definitive: all shares claimed
    ALREADY = "already"  # definitive: this user's claim committed
    EXPIRED = "expired"  # definitive: past expires_at (or refunded)
    CHECK = "check"  # restricted audience: check access, then ask again with access_checked
    MISSING = "missing"  # no gate state: rebuild from the database


@dataclass(frozen=True, slots=True)
class GateState:
    left: int | None  # None: no gate keys for this packet
    claimed: set[int]
    pending: set[int]
    done: str


class PacketGate:
    """The Lua scripts over one Redis client. Every method may raise ``redis.RedisError``;
    callers treat that as "no gate" (the database answers alone)."""

    def __init__(self, url: str, prefix: str = "") -> None:
        import redis

        self.client = redis.Redis.from_url(
            url, socket_timeout=SOCKET_TIMEOUT_S, socket_connect_timeout=SOCKET_TIMEOUT_S
        )
        self.prefix = prefix
        self._admit = self.client.register_script(_ADMIT)
        self._confirm = self.client.register_script(_CONFIRM)
        self._release = self.client.register_script(_RELEASE)
        self._close = self.client.register_script(_CLOSE)
        self._init = self.client.register_script(_INIT)

    def keys(self, packet_id: int) -> list[str]:
        base = f"{self.prefix}rp:{{{packet_id}}}:"
        return [base + "left", base + "claimed", base + "pending", base + "meta"]

    def admit(
        self, *, packet_id: int, user_id: int, now: datetime, access_checked: bool
    ) -> Verdict:
        raw = self._admit(
            keys=self.keys(packet_id),
            args=[user_id, _ms(now), STALE_MS, "1" if access_checked else "0"],
        )
        return Verdict(raw.decode() if isinstance(raw, bytes) else raw)

    def confirm(self, *, packet_id: int, user_id: int) -> None:
        self._confirm(keys=self.keys(packet_id), args=[user_id])

    def release(self, *, packet_id: int, user_id: int) -> None:
        self._release(keys=self.keys(packet_id), args=[user_id])

    def close(self, *, packet_id: int, done: str, user_id: int | None = None) -> None:
        self._close(keys=self.keys(packet_id), args=["" if user_id is None else user_id, done])

    def init(
        self,
        *,
        packet_id: int,
        left: int,
        expires_at: datetime,
        open_access: bool,
        done: str = "",
        claimed: Iterable[int] = (),
    ) -> bool:
        """Create the packet's gate unless it exists; True if this call created it."""
        args: list[object] = [max(left, 0), _ms(expires_at), "1" if open_access else "0"]
        args += [KEY_TTL_S, done, *claimed]
        return bool(self._init(keys=self.keys(packet_id), args=args))

    def state(self, packet_id: int) -> GateState:
        left_key, claimed_key, pending_key, meta_key = self.keys(packet_id)
        pipe = self.client.pipeline(transaction=True)
        pipe.get(left_key).smembers(claimed_key).zrange(pending_key, 0, -1)
        pipe.hget(meta_key, "done")
        left, claimed, pending, done = pipe.execute()
        return GateState(
            left=None if left is None else int(left),
            claimed={int(x) for x in claimed},
            pending={int(x) for x in pending},
            done=(done or b"").decode(),
        )

    def forget(self, packet_id: int) -> None:
        self.client.delete(*self.keys(packet_id))


_ms = redis_ms


def packet_gate() -> PacketGate | None:
    """The gate when Redis is configured (``REDIS_URL``), else None. One client per process."""
    return redis_gate(PacketGate)
