"""Bearer-token cache entries kept in every process, kept current by Redis pub/sub (ADR 0060).

The fast path (ADR 0043) answers "all taken" without Django, but each answer still made one
Redis round trip to read the token's cache entry — on these VMs more than half of the answer's
CPU. This module keeps a copy of the entries **in the process**, and Redis tells every process
of each change on the cache's events channel (``yaji.core.cache.events_channel``: the cache's
key prefix and its Redis database are in the name, so two caches on one server never mix):

* **An entry stored** (``token_auth._entry_store``) is stored and announced by one Lua script,
  which publishes it only if the user's generation key still holds the entry's generation:
  atomic with that check, so a bump that made the entry dead either ran before (nothing is
  published) or is published after it (and then retires it).
  ``E <hash> <user id> <ttl s> <generation> <entry as stored>``.
* **A bump** (``auth_generation_bump``: revocation, a user row saved or deleted) sets the new
  generations, deletes the revoked entries and publishes ``B {"u": {uid: gen}, "h": [...]}``
  in one Lua script: no bump can change Redis without its message.
* **The cache cleared** (``cache.clear()``, FLUSHDB; tests do it) publishes ``C``: every copy
  goes.
* **A process** subscribes on its first look-up (and after a fork). Before every look-up the
  request's own thread reads whatever messages have reached the socket (a non-blocking poll,
  no background thread): a revocation delivered to the process is applied before the next
  answer, not at some later wake-up. A copy counts only while the subscription is live; a
  read error drops the connection and **every** copy (messages may have been lost), and the
  process reads Redis again until it has resubscribed (at most once a second).
* A copy lives at most as long as its Redis entry would (``ttl``), and an entry is only ever
  used the way ``token_cached_peek`` uses a Redis one (same checks: generation as announced,
  not revoked, not expired, user active, no "last used" touch due).

What a copy cannot see: a change to the user row that skips both signals and bumps (a queryset
``update()``) — the Redis entry does not see it either; both are bounded by the entry's TTL.
A subscription that dies without the socket noticing (a network partition; not on one host)
is bounded the same way.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from redis import Redis

from yaji.core.cache import CLEARED

logger = logging.getLogger(__name__)

# An entry is ~330 bytes; beyond this many, every copy is dropped (fail safe: Redis is read).
MAX_ENTRIES = 50_000
RESUBSCRIBE_AFTER_S = 1.0

# Store an entry and announce it; 1 if announced. KEYS: the entry, its user's generation key.
# ARGV: the entry as stored, ttl (s), the entry's generation as stored (pickled), channel, the
# message's head.
STORE = """
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
if redis.call('GET', KEYS[2]) == ARGV[3] then
  redis.call('PUBLISH', ARGV[4], ARGV[5] .. ARGV[1])
  return 1
end
return 0
"""
# KEYS: the users' generation keys, then the entries to delete. ARGV: number of users, ttl (s),
# channel, message, then the users' new generations as stored (pickled), in KEYS' order.
BUMP = """
local users = tonumber(ARGV[1])
for i = 1, users do redis.call('SET', KEYS[i], ARGV[4 + i], 'EX', tonumber(ARGV[2])) end
for i = users + 1, #KEYS do redis.call('DEL', KEYS[i]) end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
"""


def store_head(*, hashed: str, user_id: int, ttl_s: int, generation: str) -> bytes:
    """The store message without the entry (the script appends it)."""
    return b"E %s %d %d %s " % (hashed.encode(), user_id, ttl_s, generation.encode())


def bump_message(*, generations: dict[int, str], hashes: list[str]) -> bytes:
    return (
        b"B " + json.dumps({"u": {str(k): v for k, v in generations.items()}, "h": hashes}).encode()
    )


@dataclass(slots=True)
class _Copy:
    user_id: int
    generation: str
    raw: bytes  # the entry as Redis stores it (loaded on use: most copies are never used)
    deadline: float  # time.monotonic()


class NearTokens:
    """One process's copies. ``client`` gives the Redis connection settings; ``channel`` is the
    full channel name. Thread-safe (one lock: the work under it is a few dict operations)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._copies: dict[str, _Copy] = {}
        self._by_user: dict[int, set[str]] = {}
        self._generations: dict[int, str] = {}  # the latest announced by a bump
        self._connection: Any = None
        self._pid = 0
        self._subscribed_to: tuple[str, int] = ("", 0)
        self._retry_at = 0.0

    # --- public ---

    def lookup(self, hashed: str, *, client: Redis, channel: str) -> tuple[int, str, bytes] | None:
        """(user id, generation, raw entry) of a live copy of ``hashed``'s entry, or None (no
        subscription, no copy, or expired): the caller then reads Redis."""
        with self._lock:
            if not self._live(client, channel):
                return None
            copy = self._copies.get(hashed)
            if copy is None:
                return None
            if copy.deadline <= time.monotonic():
                self._drop(hashed)
                return None
            return copy.user_id, copy.generation, copy.raw

    def applied_here(self, message: bytes, *, channel: str) -> None:
        """This process's own announcement applied now, not when it comes back from Redis:
        a process reads its own writes (a revocation here is never answered by a copy here).
        Only while subscribed to ``channel``: without the subscription, later changes would
        not reach the copy. Messages already on the socket are applied first, in order; the
        echo that arrives later applies the same change again (idempotent)."""
        with self._lock:
            if (
                self._connection is None
                or self._pid != os.getpid()
                or self._subscribed_to[0] != channel
            ):
                return
            try:
                self._drain()
            except Exception:  # as in a look-up: messages may be lost
                logger.warning("auth events: subscription lost; reading Redis", exc_info=True)
                self._reset()
                return
            self._apply(message)

    def close(self) -> None:
        with self._lock:
            self._reset()

    # --- the subscription ---

    def _live(self, client: Redis, channel: str) -> bool:
        if self._connection is not None and self._pid != os.getpid():
            self._reset(forked=True)
        if self._connection is not None and self._subscribed_to != (channel, id(client)):
            self._reset()  # another cache (its settings changed): these copies are not its
        if self._connection is not None:
            try:
                self._drain()
                return True
            except Exception:  # any read failure: messages may be lost
                logger.warning("auth events: subscription lost; reading Redis", exc_info=True)
                self._reset()
        now = time.monotonic()
        if now < self._retry_at:
            return False
        self._retry_at = now + RESUBSCRIBE_AFTER_S
        try:
            self._subscribe(client, channel)
        except Exception:  # no subscription: Redis answers, as before
            logger.warning("auth events: cannot subscribe; reading Redis", exc_info=True)
            self._reset()
            return False
        return False  # copies arrive from now on; this look-up reads Redis

    def _subscribe(self, client: Redis, channel: str) -> None:
        pool = client.connection_pool
        # The pool's own settings; not taken from the pool, which would count it in use for ever.
        connection = pool.connection_class(**dict(pool.connection_kwargs))
        connection.connect()
        connection.send_command("SUBSCRIBE", channel)
        # push_request: under RESP3 a subscription's replies and messages are pushes; either way
        # they read as [kind, channel, payload].
        reply = connection.read_response(push_request=True)
        if not (isinstance(reply, list) and reply and reply[0] == b"subscribe"):
            connection.disconnect()
            raise RuntimeError(f"unexpected SUBSCRIBE reply: {reply!r}")
        self._connection, self._pid = connection, os.getpid()
        self._subscribed_to = (channel, id(client))

    def _drain(self) -> None:
        connection = self._connection
        while connection.can_read(timeout=0):
            reply = connection.read_response(push_request=True)
            if isinstance(reply, list) and len(reply) == 3 and reply[0] == b"message":
                self._apply(reply[2])

    def _reset(self, *, forked: bool = False) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not forked:  # a parent's socket is the parent's
            with contextlib.suppress(Exception):  # closing a broken socket
                connection.disconnect()
        self._forget_all()

    def _forget_all(self) -> None:
        self._copies.clear()
        self._by_user.clear()
        self._generations.clear()

    # --- messages ---

    def _apply(self, message: bytes) -> None:
        if message[:2] == b"E ":
            self._apply_store(message)
        elif message[:2] == b"B ":
            self._apply_bump(message)
        elif message == CLEARED:
            self._forget_all()

    def _apply_store(self, message: bytes) -> None:
        _e, hashed_b, uid_b, ttl_b, gen_b, raw = message.split(b" ", 5)
        hashed, user_id, generation = hashed_b.decode(), int(uid_b), gen_b.decode()
        known = self._generations.get(user_id)
        if known is not None and known != generation:
            return  # announced before a bump we have already applied: dead
        if len(self._copies) >= MAX_ENTRIES:
            self._copies.clear()
            self._by_user.clear()
        self._copies[hashed] = _Copy(user_id, generation, raw, time.monotonic() + int(ttl_b))
        self._by_user.setdefault(user_id, set()).add(hashed)

    def _apply_bump(self, message: bytes) -> None:
        body = json.loads(message[2:])
        if len(self._generations) >= MAX_ENTRIES:
            # Forgetting generations could accept a copy a bump retired: drop the copies too.
            self._forget_all()
        for uid_s, generation in body.get("u", {}).items():
            user_id = int(uid_s)
            self._generations[user_id] = str(generation)
            for hashed in self._by_user.pop(user_id, ()):
                self._copies.pop(hashed, None)
        for hashed in body.get("h", []):
            self._drop(hashed)

    def _drop(self, hashed: str) -> None:
        copy = self._copies.pop(hashed, None)
        if copy is not None:
            held = self._by_user.get(copy.user_id)
            if held is not None:
                held.discard(hashed)
                if not held:
                    del self._by_user[copy.user_id]


near_tokens = NearTokens()
